"""Replies in a ticket's thread: the email InfraManager sees (threading headers, subject, body)
and the event a neighbour gets once it left, or could not."""

from __future__ import annotations

import email
import email.policy
import hashlib
from collections.abc import Sequence
from email.message import EmailMessage
from typing import Any

from helpdesk_contracts.ticket.v1 import (
    Attachment,
    CommentAuthor,
    ConversationFile,
    ReplyKind,
    SendTicketReply,
    TicketCancelRequested,
    TicketCommentAdded,
    TicketReopenRequested,
    TicketReplyFailed,
)
from helpdesk_mailer.compose import ComposeConfig, LoadedAttachment, ticket_message_id
from helpdesk_mailer.compose_reply import compose_reply
from helpdesk_mailer.delivery import Done, RetryIn
from helpdesk_mailer.replies import deliver_reply
from helpdesk_mailer.templates import Templates

from tests.unit.mailer import factories as f
from tests.unit.mailer.test_delivery import DEFERRED, NOW, REJECTED, world

IM_FIRST = "<im-1.12345@im.corp.example>"
IM_LAST = "<im-2.12345@im.corp.example>"
ROOT = f"<{f.REFERENCE}.{f.TICKET_ID}@corp.example>"


def command(**overrides: Any) -> SendTicketReply:
    values: dict[str, Any] = {
        "ticket_id": f.TICKET_ID,
        "reference": f.REFERENCE,
        "purpose": ReplyKind.COMMENT,
        "requester": f.ticket().requester,
        "text": "По сети, кабинет 305.",
        "itsm_number": "12345",
        "thread_ids": [IM_FIRST, IM_LAST],
        "itsm_subject": "Заявка №12345 Не печатает принтер",
        "occurred_at": NOW,
    }
    values.update(overrides)
    return SendTicketReply(**values)


def parsed(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def compose(cmd: SendTicketReply) -> EmailMessage:
    config = ComposeConfig.from_settings(f.settings())
    return parsed(compose_reply(cmd, config, Templates()).as_bytes())


def test_a_comment_answers_the_latest_notification_in_the_tickets_thread() -> None:
    cmd = command()
    message = compose(cmd)
    assert message["Subject"] == "Re: Заявка №12345 Не печатает принтер"
    assert message["In-Reply-To"] == IM_LAST
    assert message["References"].split() == [ROOT, IM_FIRST, IM_LAST]
    assert message["Message-ID"] == f"<{f.REFERENCE}.comment.{cmd.message_id.hex}@corp.example>"
    assert message["To"] == f.ITSM
    assert message["Reply-To"] == f"Иванова Мария Петровна <{f.EMPLOYEE}>"
    assert message["X-Helpdesk-Ticket"] == f.REFERENCE
    assert message.get_content_charset() == "utf-8"
    text = body(message)
    assert text.startswith("По сети, кабинет 305.\n")
    assert f"Комментарий к заявке {f.REFERENCE} (№12345), отправлен из Telegram." in text
    # The thread's root is the ticket email the mailer sent, as it built its Message-ID.
    assert ticket_message_id(f.ticket(), "corp.example") == ROOT


def test_without_a_notification_the_reply_answers_the_ticket_email() -> None:
    message = compose(command(thread_ids=[], itsm_subject=None, itsm_number=None))
    assert message["In-Reply-To"] == ROOT
    assert message["References"] == ROOT
    assert message["Subject"] == f"Re: [{f.REFERENCE}]"


def test_re_prefixes_are_not_stacked_and_header_injection_is_refused() -> None:
    message = compose(
        command(itsm_subject="RE: Ответ: Заявка №12345\r\nBcc: evil@example.com", text="x")
    )
    assert message["Subject"] == "Re: Заявка №12345 Bcc: evil@example.com"
    assert message["Bcc"] is None


def test_reopen_and_cancel_say_what_the_employee_wants() -> None:
    reopen = body(compose(command(purpose=ReplyKind.REOPEN, text="Снова не печатает.")))
    assert reopen.startswith("Проблема не решена. Прошу возобновить заявку №12345.")
    assert "Что не так: Снова не печатает." in reopen
    cancel = body(compose(command(purpose=ReplyKind.CANCEL, text="", itsm_number=None)))
    assert cancel.startswith("Прошу отменить заявку: она больше не нужна.")
    assert "Причина" not in cancel


async def test_a_sent_comment_becomes_an_employee_comment_event_once() -> None:
    w = world()
    cmd = command()
    assert await deliver_reply(w.deliveries, cmd) == Done()
    assert await deliver_reply(w.deliveries, cmd) == Done()  # a redelivery sends nothing
    assert len(w.smtp.sent) == 1
    [event] = w.store.events(f"reply:{cmd.message_id}")
    assert event["_key"] == "ticket.comment_added.v1"
    added = TicketCommentAdded.model_validate(event)
    assert added.author is CommentAuthor.EMPLOYEE
    assert added.correlation_id == cmd.message_id
    assert added.text == cmd.text
    assert added.telegram_user_id == 123456789
    assert added.email_subject == "Re: Заявка №12345 Не печатает принтер"


async def test_reopen_and_cancel_become_their_events() -> None:
    w = world()
    reopen, cancel = command(purpose=ReplyKind.REOPEN), command(purpose=ReplyKind.CANCEL)
    await deliver_reply(w.deliveries, reopen)
    await deliver_reply(w.deliveries, cancel)
    [r] = w.store.events(f"reply:{reopen.message_id}")
    [c] = w.store.events(f"reply:{cancel.message_id}")
    assert TicketReopenRequested.model_validate(r).reason == reopen.text
    assert c["_key"] == "ticket.cancel_requested.v1"
    assert TicketCancelRequested.model_validate(c).itsm_number == "12345"


async def test_a_refused_reply_is_reported_and_a_deferred_one_retried() -> None:
    w = world(DEFERRED, REJECTED)
    cmd = command()
    outcome = await deliver_reply(w.deliveries, cmd)
    assert isinstance(outcome, RetryIn)
    assert w.store.events(f"reply:{cmd.message_id}") == []
    w.clock.now = w.store.docs[f"reply:{cmd.message_id}"]["lease_until"]
    assert await deliver_reply(w.deliveries, cmd) == Done()
    [event] = w.store.events(f"reply:{cmd.message_id}")
    failed = TicketReplyFailed.model_validate(event)
    assert (failed.purpose, failed.correlation_id) == (ReplyKind.COMMENT, cmd.message_id)
    assert "550" in failed.reason or "rejected" in failed.reason


PDF = b"%PDF-1.4 act of work\n"


def conversation_file(data: bytes, name: str = "act.pdf") -> ConversationFile:
    return ConversationFile(
        file_id="6745a1f2c3d4e5f601234599",
        filename=name,
        content_type="application/pdf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def test_a_document_is_attached_and_a_missing_one_named() -> None:
    config = ComposeConfig.from_settings(f.settings())
    good, lost = conversation_file(PDF), conversation_file(b"x", "log.txt")
    outgoing = compose_reply(
        command(files=[good, lost]), config, Templates(), [(good, PDF), (lost, None)]
    )
    message = parsed(outgoing.as_bytes())
    [part] = list(message.iter_attachments())
    assert (part.get_filename(), part.get_content_type()) == ("act.pdf", "application/pdf")
    assert part.get_content() == PDF
    text = body(message)
    assert "Вложения: act.pdf" in text
    assert "Не удалось приложить: log.txt" in text
    assert (outgoing.attachments_sent, outgoing.attachments_omitted) == (1, 1)


async def test_the_use_case_reads_the_files_from_the_store() -> None:
    w = world()
    good = conversation_file(PDF)

    class Files:
        async def load(self, attachments: list[Attachment]) -> list[LoadedAttachment]:
            return []

        async def load_files(
            self, files: Sequence[ConversationFile]
        ) -> list[tuple[ConversationFile, bytes | None]]:
            return [(file, PDF) for file in files]

    w.deliveries.reader = Files()
    await deliver_reply(w.deliveries, command(files=[good]))
    [(_, _, data)] = w.smtp.sent
    [part] = list(parsed(data).iter_attachments())
    assert part.get_content() == PDF
