"""Ticket emails end to end: TicketSubmitted on RabbitMQ -> SMTP sink -> events, parsed back."""

from __future__ import annotations

import asyncio
import logging
from email.message import EmailMessage

import pytest
from bson import ObjectId
from gridfs import AsyncGridFSBucket
from helpdesk_contracts.ticket.v1 import Attachment, TicketEmailed, TicketEmailFailed
from helpdesk_harness.smtp_sink import SmtpSink

from tests.integration.mailer.conftest import MailerEnv
from tests.unit.mailer import factories as f

pytestmark = pytest.mark.integration

EMAILED = TicketEmailed.routing_key
FAILED = TicketEmailFailed.routing_key


def text_of(message: EmailMessage, kind: str) -> str:
    part = message.get_body(preferencelist=(kind,))
    assert part is not None, kind
    assert part.get_content_charset() == "utf-8"
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


async def store_photo(env: MailerEnv, data: bytes, filename: str) -> Attachment:
    bucket = AsyncGridFSBucket(env.db, bucket_name="attachments")
    file_id = await bucket.upload_from_stream(filename, data)
    return f.attachment(data, file_id=str(file_id), filename=filename)


async def test_ticket_with_photos_reaches_the_helpdesk_as_specified(
    mailer_env: MailerEnv, smtp_sink: SmtpSink
) -> None:
    photo = f.photo(150_000, 3)
    attached = await store_photo(mailer_env, photo, "принтер 🖨.jpg")
    too_big = await store_photo(mailer_env, f.photo(250_000, 4), "огромное.jpg")
    # The message claims a small size; GridFS knows better.
    too_big = too_big.model_copy(update={"size": 1000})
    missing = f.attachment(b"gone", file_id=str(ObjectId()), filename="пропавшее.jpg")
    description = ("Не печатает 🖨️, горит оранжевая лампа; «срочно».\n" * 100)[:4000]
    ticket = f.ticket(description=description, attachments=[attached, too_big, missing])
    settings = mailer_env.settings(smtp_sink, html_body=True, attachment_max_bytes=200_000)

    async with mailer_env.run(settings):
        await mailer_env.publish(ticket)
        [mail] = await smtp_sink.await_messages(1)
        [event] = await mailer_env.wait_event(EMAILED)

    message = mail.message
    assert mail.mail_from == f.BOT
    assert mail.rcpt_tos == [f.ITSM, f.ITSM_CC]
    assert message["Subject"].startswith("[TG-7F3A2C] Принтер: Не печатает 🖨️, горит")
    assert len(message["Subject"]) <= len("[TG-7F3A2C] ") + 100
    assert message["Message-ID"] == f"<TG-7F3A2C.{f.TICKET_ID}@corp.example>"
    assert message["Reply-To"] == f"Иванова Мария Петровна <{f.EMPLOYEE}>"
    assert message["X-Helpdesk-Ticket"] == "TG-7F3A2C"
    assert message["Date"] == "Thu, 26 Nov 2026 13:20:00 +0300"
    plain, html = text_of(message, "plain"), text_of(message, "html")
    assert description.strip() in plain
    assert "огромное.jpg (250.0 kB): больше допустимого размера вложения" in plain
    assert "пропавшее.jpg (4 Bytes): файл не найден в хранилище" in plain
    assert "горит оранжевая лампа; «срочно»." in html
    [part] = list(message.iter_attachments())
    assert part.get_filename() == "принтер 🖨.jpg"
    assert part.get_content_type() == "image/jpeg"
    assert part.get_content() == photo

    emailed = TicketEmailed.model_validate(event)
    assert emailed.correlation_id == ticket.message_id
    assert emailed.email_message_id == message["Message-ID"]
    assert (emailed.attachments_sent, emailed.attachments_omitted) == (1, 2)
    record = await mailer_env.outgoing(f"ticket:{f.TICKET_ID}")
    assert record is not None
    assert record["state"] == "sent"
    assert record["outbox"] == []  # relayed


async def test_redelivered_ticket_is_not_emailed_again(
    mailer_env: MailerEnv, smtp_sink: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="helpdesk.mailer")
    ticket = f.ticket()
    async with mailer_env.run(mailer_env.settings(smtp_sink)):
        await mailer_env.publish(ticket)
        await smtp_sink.await_messages(1)
        await mailer_env.wait_event(EMAILED)
        await mailer_env.publish(ticket)  # the gateway's relay published it twice
        await wait_for_log(caplog, "already sent; nothing sent")
        await asyncio.sleep(0.3)
    assert smtp_sink.transactions_attempted == 1
    assert len(await mailer_env.events_now(EMAILED)) == 1


async def test_421_then_451_then_delivered_once(mailer_env: MailerEnv, smtp_sink: SmtpSink) -> None:
    smtp_sink.fail_next(421, "4.3.2 Service not available, closing channel")
    smtp_sink.fail_next(451, "4.3.0 Temporary local problem")
    async with mailer_env.run(mailer_env.settings(smtp_sink)):
        await mailer_env.publish(f.ticket())
        [event] = await mailer_env.wait_event(EMAILED, within=20)
        await asyncio.sleep(0.5)
        delayed = await mailer_env.events_now(FAILED)
    assert len(smtp_sink.messages) == 1
    assert smtp_sink.transactions_attempted == 3
    # The user heard once that it is delayed, not on every retry.
    [notice] = delayed
    failed = TicketEmailFailed.model_validate(notice)
    assert failed.permanent is False
    assert failed.smtp_code == 421
    assert failed.next_attempt_at is not None
    assert event["email_message_id"] == smtp_sink.messages[0].message["Message-ID"]


async def test_550_is_reported_with_the_reply_and_not_retried(
    mailer_env: MailerEnv, smtp_sink: SmtpSink
) -> None:
    smtp_sink.fail_next(550, "5.7.1 Relaying denied")
    async with mailer_env.run(mailer_env.settings(smtp_sink)):
        await mailer_env.publish(f.ticket())
        [event] = await mailer_env.wait_event(FAILED)
        await asyncio.sleep(3)  # long enough for a retry storm to show
    failed = TicketEmailFailed.model_validate(event)
    assert failed.permanent is True
    assert failed.smtp_code == 550
    assert failed.smtp_reply == "5.7.1 Relaying denied"
    assert smtp_sink.transactions_attempted == 1
    assert smtp_sink.messages == []
    assert await mailer_env.events_now(EMAILED) == []
    record = await mailer_env.outgoing(f"ticket:{f.TICKET_ID}")
    assert record is not None and record["state"] == "failed"


async def test_relay_down_for_a_while_then_up_delivers(
    mailer_env: MailerEnv, smtp_sink: SmtpSink
) -> None:
    smtp_sink.stop()
    async with mailer_env.run(mailer_env.settings(smtp_sink)):
        await mailer_env.publish(f.ticket())
        [notice] = await mailer_env.wait_event(FAILED)
        delayed = TicketEmailFailed.model_validate(notice)
        assert delayed.permanent is False
        assert delayed.smtp_code is None
        assert "connection" in delayed.reason.lower()
        await asyncio.sleep(2)  # at least one more failed retry meanwhile
        smtp_sink.start()
        await smtp_sink.await_messages(1, timeout=15)
        await mailer_env.wait_event(EMAILED)
        assert len(await mailer_env.events_now(FAILED)) == 1
    assert len(smtp_sink.messages) == 1


async def test_one_connection_serves_many_mails_and_a_dropped_one_is_replaced(
    mailer_env: MailerEnv, smtp_sink: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="helpdesk.mailer")
    ids = [f"6745a1f2c3d4e5f6012345{i:02d}" for i in range(4)]
    async with mailer_env.run(mailer_env.settings(smtp_sink, smtp_pool_size=1)):
        for ticket_id in ids[:3]:
            await mailer_env.publish(f.ticket(ticket_id=ticket_id))
        await smtp_sink.await_messages(3)
        await mailer_env.wait_event(EMAILED, count=3)
        opened = [r for r in caplog.records if r.getMessage() == "SMTP connection opened"]
        assert len(opened) == 1
        # The relay restarts: the pooled connection is dead; the next mail goes out anyway.
        smtp_sink.stop()
        smtp_sink.start()
        await mailer_env.publish(f.ticket(ticket_id=ids[3]))
        await smtp_sink.await_messages(4)
        await mailer_env.wait_event(EMAILED, count=4)
    assert await mailer_env.events_now(FAILED) == []
    assert sorted(m.message["X-Helpdesk-Ticket-Id"] for m in smtp_sink.messages) == ids


async def wait_for_log(
    caplog: pytest.LogCaptureFixture, text: str, *, count: int = 1, within: float = 10
) -> None:
    """Wait until `count` log records' messages contain `text`."""
    for _ in range(int(within / 0.05)):
        if sum(text in record.getMessage() for record in caplog.records) >= count:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"fewer than {count} log lines with {text!r}")


async def test_a_burst_of_tickets_shares_the_pool_of_connections(
    mailer_env: MailerEnv, smtp_sink: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="helpdesk.mailer")
    smtp_sink.delay(0.5)  # a slow relay: each DATA takes half a second
    ids = [f"6745a1f2c3d4e5f6012346{i:02d}" for i in range(9)]
    async with mailer_env.run(mailer_env.settings(smtp_sink, smtp_pool_size=3)):
        for ticket_id in ids:
            await mailer_env.publish(f.ticket(ticket_id=ticket_id))
        await smtp_sink.await_messages(len(ids), timeout=30)
        await mailer_env.wait_event(EMAILED, count=len(ids))
        opened = [r for r in caplog.records if r.getMessage() == "SMTP connection opened"]
    # Slow transactions overlapped on three connections, never more.
    assert len(opened) == 3
    assert sorted(m.message["X-Helpdesk-Ticket-Id"] for m in smtp_sink.messages) == ids
    assert await mailer_env.events_now(FAILED) == []
