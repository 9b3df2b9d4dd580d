"""Engineers' comments and questions reach the employee's side as TicketCommentAdded: a comment
without a status, and a new comment with the same status, are no longer lost."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage

import pytest

from tests.integration.inbox.conftest import InboxEnv, new_ticket, notification, status_mail

pytestmark = pytest.mark.integration

MOSCOW = timezone(timedelta(hours=3))


async def test_a_comment_without_a_status_becomes_a_comment_event_not_quarantine(
    inbox_env: InboxEnv,
) -> None:
    ticket_id, reference = new_ticket()
    mail = notification(
        subject=f"Заявка №12345 [{reference}] Новый комментарий",
        body="Комментарий: Уточните номер кабинета.\n\nС уважением, служба ИТ\n",
    )
    async with inbox_env.running() as service:
        await inbox_env.teach(service, ticket_id, reference)
        inbox_env.dovecot.deliver(mail, user=inbox_env.user)
        report = await service.poller.poll_once()
        events = await inbox_env.events.wait_for(1)
        again = await service.poller.poll_once()

    assert [key for key, _ in events] == ["ticket.comment_added.v1"]
    event = events[0][1]
    assert event["ticket_id"] == ticket_id
    assert event["reference"] == reference
    assert event["author"] == "support"
    assert event["text"] == "Уточните номер кабинета."
    assert event["question"] is False  # a plain comment; a question ends with "?" or says so
    assert event["itsm_number"] == "12345"
    assert event["email_subject"] == f"Заявка №12345 [{reference}] Новый комментарий"
    assert event["email_message_id"].startswith("<im-")
    assert report.outcomes["announced"] == 1
    assert report.outcomes["quarantined"] == 0
    assert again.new == 0
    assert await inbox_env.db["inbox_quarantine"].count_documents({}) == 0


async def test_a_new_comment_with_the_same_status_is_forwarded_and_a_repeat_is_not(
    inbox_env: InboxEnv,
) -> None:
    ticket_id, reference = new_ticket()
    subject = f"Заявка №12345 [{reference}] Не печатает принтер"
    async with inbox_env.running() as service:
        await inbox_env.teach(service, ticket_id, reference)
        inbox_env.dovecot.deliver_many(
            [
                status_mail(reference, "12345", "В работе"),
                notification(
                    subject=subject,
                    body="Статус: В работе\nВопрос: Принтер подключён по USB или по сети?\n",
                    date="Thu, 26 Nov 2026 11:00:00 +0300",
                ),
                notification(  # InfraManager repeats the last comment in the next mail
                    subject=subject,
                    body="Статус: В работе\nВопрос: Принтер подключён по USB или по сети?\n",
                    date="Thu, 26 Nov 2026 11:05:00 +0300",
                ),
            ],
            user=inbox_env.user,
        )
        report = await service.poller.poll_once()
        events = await inbox_env.events.wait_for(2)

    assert [key for key, _ in events] == ["ticket.status_changed.v1", "ticket.comment_added.v1"]
    comment = events[1][1]
    assert comment["text"] == "Принтер подключён по USB или по сети?"
    assert comment["question"] is True
    assert (report.outcomes["announced"], report.outcomes["unchanged"]) == (2, 1)


async def test_a_status_change_with_a_comment_is_one_status_event(inbox_env: InboxEnv) -> None:
    ticket_id, reference = new_ticket()
    async with inbox_env.running() as service:
        await inbox_env.teach(service, ticket_id, reference)
        inbox_env.dovecot.deliver_many(
            [
                notification(
                    subject=f"Заявка №12345 [{reference}] Не печатает принтер",
                    body="Статус: Ожидает уточнения\nКомментарий: В каком кабинете принтер?\n",
                ),
                notification(  # the same comment again with the same status: nothing new
                    subject=f"Заявка №12345 [{reference}] Не печатает принтер",
                    body="Статус: Ожидает уточнения\nКомментарий: В каком кабинете принтер?\n",
                    date="Thu, 26 Nov 2026 12:00:00 +0300",
                ),
            ],
            user=inbox_env.user,
        )
        await service.poller.poll_once()
        events = await inbox_env.events.wait_for(1)

    assert [key for key, _ in events] == ["ticket.status_changed.v1"]
    assert events[0][1]["status"] == "waiting"
    assert events[0][1]["comment"] == "В каком кабинете принтер?"


async def test_a_comments_file_is_kept_for_the_employee(inbox_env: InboxEnv) -> None:
    ticket_id, reference = new_ticket()
    message = EmailMessage()
    message["From"] = "InfraManager <im@example.com>"
    message["To"] = "helpdesk@example.com"
    message["Subject"] = f"Заявка №12345 [{reference}] Новый комментарий"
    message["Date"] = "Thu, 26 Nov 2026 10:31:00 +0300"
    message["Message-ID"] = "<im-file-1@im.example.com>"
    message.set_content("Комментарий: Акт выполненных работ во вложении.\n")
    message.add_attachment(
        b"%PDF-1.4\nact\n", maintype="application", subtype="pdf", filename="акт.pdf"
    )
    async with inbox_env.running() as service:
        await inbox_env.teach(service, ticket_id, reference)
        inbox_env.dovecot.deliver(message.as_bytes(), user=inbox_env.user)
        await service.poller.poll_once()
        events = await inbox_env.events.wait_for(1)

    [(key, event)] = events
    assert key == "ticket.comment_added.v1"
    [file] = event["files"]
    assert (file["filename"], file["content_type"], file["size"]) == (
        "акт.pdf",
        "application/pdf",
        13,
    )
    stored = await inbox_env.db["attachments.files"].find_one({"metadata.ticket_id": ticket_id})
    assert stored is not None and str(stored["_id"]) == file["file_id"]


async def test_a_question_with_a_status_change_carries_the_question(inbox_env: InboxEnv) -> None:
    ticket_id, reference = new_ticket()
    async with inbox_env.running() as service:
        await inbox_env.teach(service, ticket_id, reference)
        inbox_env.dovecot.deliver(
            notification(
                subject=f"Заявка №12345 [{reference}] Не печатает принтер",
                body="Статус заявки №12345 изменен на «Ожидает ответа пользователя».\n\n"
                "Вопрос: Подскажите номер кабинета?\n",
            ),
            user=inbox_env.user,
        )
        await service.poller.poll_once()
        events = await inbox_env.events.wait_for(1)

    [(key, event)] = events
    assert (key, event["status"]) == ("ticket.status_changed.v1", "waiting")
    assert event["comment"] == "Подскажите номер кабинета?"


async def test_a_comment_carries_the_time_infra_manager_wrote_it_unless_that_is_in_the_future(
    inbox_env: InboxEnv,
) -> None:
    ticket_id, reference = new_ticket()
    subject = f"Заявка №12345 [{reference}] Не печатает принтер"
    written = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)
    future = datetime.now(UTC) + timedelta(days=1)
    async with inbox_env.running() as service:
        await inbox_env.teach(service, ticket_id, reference)
        before = datetime.now(UTC)
        inbox_env.dovecot.deliver_many(
            [
                notification(
                    subject=subject,
                    body="Комментарий: Заказали картридж, привезут завтра.\n",
                    date=email.utils.format_datetime(written.astimezone(MOSCOW)),
                ),
                notification(  # a wrong clock at InfraManager's: its Date is not believed
                    subject=subject,
                    body="Комментарий: Картридж привезли.\n",
                    date=email.utils.format_datetime(future),
                ),
            ],
            user=inbox_env.user,
        )
        await service.poller.poll_once()
        events = await inbox_env.events.wait_for(2)
        after = datetime.now(UTC)

    by_text = {event["text"]: event for _, event in events}
    first = by_text["Заказали картридж, привезут завтра."]
    assert datetime.fromisoformat(first["commented_at"]) == written
    read_at = datetime.fromisoformat(by_text["Картридж привезли."]["commented_at"])
    assert before <= read_at <= after
    # What the engineer wrote is not kept in the ticket's link (it has no retention): the
    # repeat guard keeps digests.
    link = await inbox_env.db["itsm_links"].find_one({"_id": ticket_id})
    assert link is not None
    kept = repr({key: value for key, value in link.items() if key != "outbox"})
    assert "картридж" not in kept.casefold()
    assert len(link["comment_keys"]) == 2
