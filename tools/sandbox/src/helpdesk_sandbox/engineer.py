"""What an InfraManager support engineer can do to a ticket, and the notification each action sends.

The console (console.py) lets a person play the engineer. Registering and taking a ticket into
work send exactly the simulator's automatic notifications (`imsim.build_notification`); asking a
question, commenting (with a file), resolving with a solution and rejecting send the mails built
here, in the same charsets and transfer encodings, so the inbox service meets every variant
whoever drives the simulator. Everything here is pure: no clock, no files.
"""

from __future__ import annotations

import email.charset
import email.utils
from datetime import datetime
from email.header import Header
from email.mime.text import MIMEText
from enum import StrEnum

from helpdesk_sandbox.imsim import (
    DEFAULT_SENDER,
    MESSAGE_ID_DOMAIN,
    AttachedFile,
    Step,
    Style,
    TicketMail,
    build_notification,
    fit_charset,
    notification_subject,
    with_file,
)


class Action(StrEnum):
    REGISTER = "register"
    TAKE = "take"
    ASK = "ask"
    COMMENT = "comment"
    RESOLVE = "resolve"
    REJECT = "reject"


class Status(StrEnum):
    """The ticket's state in InfraManager as the console shows it."""

    RECEIVED = "received"  # the email arrived; not registered yet
    REGISTERED = "registered"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    RESOLVED = "resolved"
    REJECTED = "rejected"


FINAL = frozenset({Status.RESOLVED, Status.REJECTED})

# What InfraManager's default workflow lets an engineer do in each state: a ticket must be
# registered (it has a number) before anything else, and a finished one is left alone.
ALLOWED: dict[Status, tuple[Action, ...]] = {
    Status.RECEIVED: (Action.REGISTER, Action.REJECT),
    Status.REGISTERED: (Action.TAKE, Action.ASK, Action.COMMENT, Action.RESOLVE, Action.REJECT),
    Status.IN_PROGRESS: (Action.ASK, Action.COMMENT, Action.RESOLVE, Action.REJECT),
    Status.WAITING: (Action.TAKE, Action.COMMENT, Action.RESOLVE, Action.REJECT),
    Status.RESOLVED: (),
    Status.REJECTED: (),
}

AFTER: dict[Action, Status | None] = {
    Action.REGISTER: Status.REGISTERED,
    Action.TAKE: Status.IN_PROGRESS,
    Action.ASK: Status.WAITING,
    Action.COMMENT: None,  # a comment leaves the status as it is
    Action.RESOLVE: Status.RESOLVED,
    Action.REJECT: Status.REJECTED,
}

STEP_STATUS: dict[Step, Status] = {
    Step.REGISTERED: Status.REGISTERED,
    Step.IN_PROGRESS: Status.IN_PROGRESS,
    Step.RESOLVED: Status.RESOLVED,
}

# Workflow status names as InfraManager writes them into notifications.
STATUS_NAMES: dict[Status, str] = {
    Status.REGISTERED: "Зарегистрирована",
    Status.IN_PROGRESS: "В работе",
    Status.WAITING: "Ожидает уточнения",
    Status.RESOLVED: "Выполнена",
    Status.REJECTED: "Отклонена",
}

NEEDS_TEXT = frozenset({Action.ASK, Action.COMMENT, Action.REJECT})
DEFAULT_SOLUTION = "Проблема устранена, проверьте, пожалуйста."
FOOTER = "Это сообщение сформировано автоматически системой InfraManager."


class ActionError(ValueError):
    """The action does not fit the ticket (wrong state, missing text)."""


# A file the console's engineer attaches: the simulator's own kind of attachment.
EngineerFile = AttachedFile


def check(action: Action, status: Status, text: str) -> None:
    """Raise ActionError when InfraManager would not let the engineer do this now."""
    if action not in ALLOWED[status]:
        raise ActionError(f"cannot {action.value} a ticket that is {status.value}")
    if action in NEEDS_TEXT and not text.strip():
        raise ActionError(f"{action.value} needs a text")


def action_body(action: Action, number: int, status: Status, text: str) -> str:
    """The body of an engineer's notification; `status` is the ticket's status before it."""
    text = text.strip()
    lines = ["Здравствуйте!", ""]
    if action is Action.ASK:
        lines += [
            f"Статус заявки №{number} изменен на «{STATUS_NAMES[Status.WAITING]}».",
            "",
            f"Комментарий: {text}",
            "",
            "Чтобы ответить, ответьте на это письмо.",
        ]
    elif action is Action.COMMENT:
        lines += [
            f"К заявке №{number} добавлен комментарий.",
            f"Текущий статус: «{STATUS_NAMES[status]}»",
            "",
            f"Комментарий: {text}",
        ]
    elif action is Action.RESOLVE:
        lines += [
            f"Статус заявки №{number} изменен на «{STATUS_NAMES[Status.RESOLVED]}».",
            "",
            f"Решение: {text or DEFAULT_SOLUTION}",
        ]
    elif action is Action.REJECT:
        lines += [
            f"Статус заявки №{number} изменен на «{STATUS_NAMES[Status.REJECTED]}».",
            "",
            f"Комментарий: {text}",
        ]
    else:
        raise ActionError(f"{action.value} is sent as the simulator's own notification")
    return "\n".join([*lines, "", FOOTER, ""])


def action_message_id(number: int, action: Action, serial: int) -> str:
    return f"<{number}.{action.value}.{serial}@{MESSAGE_ID_DOMAIN}>"


def build_action_mail(
    ticket: TicketMail,
    action: Action,
    number: int,
    style: Style,
    *,
    status: Status,
    text: str = "",
    file: EngineerFile | None = None,
    serial: int = 1,
    sender: str = DEFAULT_SENDER,
    now: datetime,
) -> bytes:
    """The raw notification InfraManager sends when the engineer does `action`.

    `status` is the ticket's status before the action; `serial` makes the Message-ID unique
    when the engineer does the same thing twice (two comments).
    """
    check(action, status, text)
    if action is Action.REGISTER:
        return build_notification(ticket, Step.REGISTERED, number, style, sender=sender, now=now)
    if action is Action.TAKE:
        return build_notification(ticket, Step.IN_PROGRESS, number, style, sender=sender, now=now)
    charset = email.charset.Charset(style.charset)
    charset.body_encoding = (
        email.charset.QP if style.transfer_encoding == "quoted-printable" else email.charset.BASE64
    )
    charset.header_encoding = email.charset.BASE64
    body = fit_charset(action_body(action, number, status, text), style.charset)
    message = with_file(MIMEText(body, "plain", charset), file)  # type: ignore[arg-type]
    message["From"] = sender
    message["To"] = ticket.reply_address
    subject = fit_charset(notification_subject(ticket, number, style), style.charset)
    message["Subject"] = Header(subject, charset, header_name="Subject")  # type: ignore[assignment]
    message["Date"] = email.utils.format_datetime(now)
    message["Message-ID"] = action_message_id(number, action, serial)
    message["X-Mailer"] = "InfraManager (helpdesk sandbox simulator)"
    return message.as_bytes()
