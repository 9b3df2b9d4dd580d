"""A reply in a ticket's thread: the employee's comment, or a reopen or cancel request, as an
email InfraManager appends to the ticket. Pure, like compose.py: the same command always gives
the same bytes, so a resend after a crash is a copy InfraManager can de-duplicate.

Threading: `In-Reply-To` is the newest message of the thread (InfraManager's latest
notification, else the ticket email) and `References` the whole thread, oldest first; the
subject is `Re: ` + InfraManager's subject, which carries its ticket number.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Sequence
from email.message import EmailMessage
from typing import Any

from helpdesk_contracts.ticket.v1 import ConversationFile, ReplyKind, SendTicketReply

from helpdesk_mailer import sanitize
from helpdesk_mailer.compose import (
    POLICY,
    SUBJECT_MAX_LENGTH,
    ComposeConfig,
    OutgoingEmail,
    _address,
    _encoded_size,
    _fix_boundaries,
    _required_address,
    _set_text_bodies,
)
from helpdesk_mailer.errors import ComposeError
from helpdesk_mailer.templates import Templates

REPLY_SUBJECT = "reply/subject.txt.j2"
_RE_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|ответ|отв)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*)+", re.I)
_MESSAGE_ID = re.compile(r"^<[^<>\s]{1,990}>$")


def reply_body_template(purpose: ReplyKind) -> str:
    return f"reply/{purpose.value}.txt.j2"


REPLY_TEMPLATES = [REPLY_SUBJECT, *(reply_body_template(p) for p in ReplyKind)]


def ticket_email_id(reference: str, ticket_id: str, domain: str) -> str:
    """The ticket email's Message-ID (as compose.ticket_message_id builds it): the thread's root."""
    return f"<{reference}.{ticket_id}@{domain}>"


def reply_message_id(command: SendTicketReply, domain: str) -> str:
    return f"<{command.reference}.{command.purpose.value}.{command.message_id.hex}@{domain}>"


def thread_of(command: SendTicketReply, domain: str) -> list[str]:
    """The thread's Message-IDs, oldest first, each once; malformed ones left out."""
    ids = [ticket_email_id(command.reference, command.ticket_id, domain), *command.thread_ids]
    return [i for i in dict.fromkeys(x.strip() for x in ids) if _MESSAGE_ID.match(i)]


def _context(command: SendTicketReply) -> dict[str, Any]:
    requester = command.requester
    subject = _RE_PREFIX.sub("", sanitize.one_line(command.itsm_subject))
    return {
        "reference": command.reference,
        "purpose": command.purpose.value,
        "text": sanitize.multi_line(command.text),
        "itsm_number": sanitize.one_line(command.itsm_number),
        "itsm_subject": subject,
        "locale": command.locale,
        "requester": {
            "display_name": sanitize.one_line(requester.display_name),
            "email": requester.email,
            "phone": sanitize.one_line(requester.phone),
            "department": sanitize.one_line(requester.department),
        },
    }


LoadedFile = tuple[ConversationFile, bytes | None]
_PART_OVERHEAD = 1024
_SIZE_MARGIN = 32 * 1024


def _select_files(
    files: Sequence[LoadedFile], config: ComposeConfig
) -> tuple[list[tuple[ConversationFile, bytes, str]], list[str]]:
    """Attach in order within the message limit; name the rest (missing, damaged, too large)."""
    budget = config.message_max_bytes - _SIZE_MARGIN
    attached: list[tuple[ConversationFile, bytes, str]] = []
    omitted: list[str] = []
    for index, (file, data) in enumerate(files, start=1):
        name = sanitize.filename(file.filename, f"file-{index}")
        cost = _encoded_size(len(data)) + _PART_OVERHEAD if data is not None else 0
        if data is None or cost > budget:
            omitted.append(name)
            continue
        budget -= cost
        attached.append((file, data, name))
    return attached, omitted


def compose_reply(
    command: SendTicketReply,
    config: ComposeConfig,
    tpl: Templates,
    files: Sequence[LoadedFile] = (),
) -> OutgoingEmail:
    """The email that puts the employee's words (and files) into the ticket's thread."""
    context = _context(command)
    attached, omitted = _select_files(files, config)
    context["attachments"] = [name for _, _, name in attached]
    context["omitted"] = omitted
    subject = sanitize.truncate(
        sanitize.one_line(tpl.render(REPLY_SUBJECT, context)), SUBJECT_MAX_LENGTH
    )
    text = sanitize.multi_line(tpl.render(reply_body_template(command.purpose), context))
    if not subject or not text:
        # InfraManager ignores mail with an empty subject or body.
        raise ComposeError("the reply templates rendered an empty subject or body")

    message = EmailMessage(policy=POLICY)
    requester = command.requester
    employee = _address(requester.display_name, requester.email)
    bot = _required_address(config.from_name, config.from_address)
    message["Date"] = email.utils.format_datetime(command.occurred_at.astimezone(config.zone))
    if config.from_mode == "employee" and employee is not None:
        message["From"] = employee
        message["Sender"] = bot
    else:
        message["From"] = bot
    if employee is not None:
        message["Reply-To"] = employee
    message["To"] = [_required_address("", a) for a in config.to]
    if config.cc:
        message["Cc"] = [_required_address("", a) for a in config.cc]
    message["Subject"] = subject
    message_id = reply_message_id(command, config.domain)
    message["Message-ID"] = message_id
    thread = thread_of(command, config.domain)
    message["In-Reply-To"] = thread[-1]
    message["References"] = " ".join(thread)
    message["X-Helpdesk-Ticket"] = command.reference
    message["X-Helpdesk-Ticket-Id"] = command.ticket_id
    message["X-Helpdesk-Reply"] = command.purpose.value
    _set_text_bodies(message, text, None)
    for file, data, name in attached:
        maintype, _, subtype = file.content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    _fix_boundaries(message, command.message_id.hex)
    return OutgoingEmail(
        message=message,
        recipients=config.to + config.cc,
        message_id=message_id,
        attachments_sent=len(attached),
        attachments_omitted=len(omitted),
    )
