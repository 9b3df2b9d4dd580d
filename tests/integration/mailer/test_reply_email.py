"""The employee's comment (with a file) and requests go into the ticket's thread through the
SMTP sink; the event that says so comes back, or TicketReplyFailed."""

from __future__ import annotations

import hashlib

import pytest
from gridfs import AsyncGridFSBucket
from helpdesk_contracts.ticket.v1 import (
    ConversationFile,
    ReplyKind,
    SendTicketReply,
    TicketCancelRequested,
    TicketCommentAdded,
    TicketReplyFailed,
)
from helpdesk_harness.smtp_sink import SmtpSink

from tests.integration.mailer.conftest import MailerEnv
from tests.integration.mailer.test_ticket_email import text_of
from tests.unit.mailer import factories as f

pytestmark = pytest.mark.integration

IM_ID = "<im-2.12345@im.corp.example>"
PDF = b"%PDF-1.4\nphoto of the error\n"


def reply(purpose: ReplyKind, text: str, files: list[ConversationFile]) -> SendTicketReply:
    return SendTicketReply(
        ticket_id=f.TICKET_ID,
        reference=f.REFERENCE,
        purpose=purpose,
        requester=f.ticket().requester,
        text=text,
        files=files,
        itsm_number="12345",
        thread_ids=[IM_ID],
        itsm_subject="Заявка №12345 Не печатает принтер",
    )


async def test_a_comment_with_a_file_lands_in_the_thread_and_is_reported(
    mailer_env: MailerEnv, smtp_sink: SmtpSink
) -> None:
    bucket = AsyncGridFSBucket(mailer_env.db, bucket_name="attachments")
    file_id = await bucket.upload_from_stream("error.pdf", PDF)
    file = ConversationFile(
        file_id=str(file_id),
        filename="error.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256=hashlib.sha256(PDF).hexdigest(),
    )
    comment = reply(ReplyKind.COMMENT, "Вот скриншот ошибки.", [file])
    cancel = reply(ReplyKind.CANCEL, "", [])
    refused = reply(ReplyKind.COMMENT, "Ещё одно", [])
    async with mailer_env.run(mailer_env.settings(smtp_sink)):
        await mailer_env.publish(comment)
        [mail] = await smtp_sink.await_messages(1)
        [added] = await mailer_env.wait_event(TicketCommentAdded.routing_key)
        await mailer_env.publish(cancel)
        [cancel_mail] = (await smtp_sink.await_messages(2))[1:]
        [cancelled] = await mailer_env.wait_event(TicketCancelRequested.routing_key)
        smtp_sink.fail_next(550, "5.7.1 Not allowed", stage="rcpt")
        await mailer_env.publish(refused)
        [failed] = await mailer_env.wait_event(TicketReplyFailed.routing_key)

    root = f"<{f.REFERENCE}.{f.TICKET_ID}@corp.example>"
    assert mail.message["Subject"] == "Re: Заявка №12345 Не печатает принтер"
    assert mail.message["In-Reply-To"] == IM_ID
    assert mail.message["References"].split() == [root, IM_ID]
    assert mail.rcpt_tos == [f.ITSM, f.ITSM_CC]
    assert "Вот скриншот ошибки." in text_of(mail.message, "plain")
    [part] = list(mail.message.iter_attachments())
    assert (part.get_filename(), part.get_content()) == ("error.pdf", PDF)
    event = TicketCommentAdded.model_validate(added)
    assert (event.author.value, event.correlation_id) == ("employee", comment.message_id)
    assert event.email_message_id == mail.message["Message-ID"]

    assert "Прошу отменить заявку №12345" in text_of(cancel_mail.message, "plain")
    assert TicketCancelRequested.model_validate(cancelled).correlation_id == cancel.message_id
    reply_failed = TicketReplyFailed.model_validate(failed)
    assert (reply_failed.correlation_id, reply_failed.purpose) == (
        refused.message_id,
        ReplyKind.COMMENT,
    )
