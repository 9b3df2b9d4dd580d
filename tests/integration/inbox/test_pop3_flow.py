"""The POP3 flow: new mail becomes one event, a restart repeats nothing, old mail is not read."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from helpdesk_inbox.poller import PollReport

from tests.integration.inbox.conftest import InboxEnv, new_ticket, notification, status_mail

pytestmark = pytest.mark.integration


async def test_new_mail_becomes_one_status_event_and_a_restart_repeats_nothing(
    inbox_env: InboxEnv,
) -> None:
    ticket_id, reference = new_ticket()
    mail = notification(
        subject=f"Заявка №12345 [{reference}] Не печатает принтер",
        body="Статус заявки изменен на «В работе».\nКомментарий: Выезжаем.\n",
    )
    async with inbox_env.running() as service:
        await inbox_env.teach(service, ticket_id, reference)
        inbox_env.dovecot.deliver(mail, user=inbox_env.user)

        started = datetime.now(UTC)
        first = await service.poller.poll_once()
        events = await inbox_env.events.wait_for(1)
        second = await service.poller.poll_once()

    assert [key for key, _ in events] == ["ticket.status_changed.v1"]
    event = events[0][1]
    assert event["ticket_id"] == ticket_id
    assert event["reference"] == reference
    assert event["status"] == "in_progress"
    assert event["raw_status"] == "В работе"
    assert event["itsm_number"] == "12345"
    assert event["comment"] == "Выезжаем."
    # Ordered by when the inbox received it, not by the Date the sender wrote (2026-11-26).
    changed_at = datetime.fromisoformat(event["changed_at"])
    assert started <= changed_at <= datetime.now(UTC)
    assert (first.retrieved, first.outcomes["announced"]) == (1, 1)
    assert (second.new, second.retrieved) == (0, 0)

    # A restart (a new process on the same database) reads nothing again and announces nothing.
    async with inbox_env.running() as restarted:
        third = await restarted.poller.poll_once()
        await restarted.relay.run_once()
    assert (third.listed, third.new, third.retrieved) == (1, 0, 0)
    assert [s.retr for s in inbox_env.sessions(3)] == [1, 0, 0]
    assert len(inbox_env.events.received) == 1
    link = await inbox_env.db["itsm_links"].find_one({"_id": ticket_id})
    assert link is not None
    assert link["itsm_numbers"] == ["12345"]
    assert link["outbox"] == []


async def test_the_same_status_twice_is_announced_once(inbox_env: InboxEnv) -> None:
    ticket_id, reference = new_ticket()
    async with inbox_env.running() as service:
        await inbox_env.teach(service, ticket_id, reference)
        inbox_env.dovecot.deliver_many(
            [
                status_mail(reference, "12345", "Зарегистрирована"),
                status_mail(reference, "12345", "Открыта"),  # the same status, other words
                status_mail(reference, "12345", "В работе", date="Thu, 26 Nov 2026 11:00 +0300"),
            ],
            user=inbox_env.user,
        )
        report = await service.poller.poll_once()
        events = await inbox_env.events.wait_for(2)

    assert [body["status"] for _, body in events] == ["registered", "in_progress"]
    assert report.outcomes["announced"] == 2
    assert report.outcomes["unchanged"] == 1


async def test_of_5000_old_messages_and_3_new_only_the_3_are_retrieved(
    inbox_env: InboxEnv,
) -> None:
    ticket_id, reference = new_ticket()
    old = [notification(subject=f"Старое письмо {n}", body=f"Архив {n}\n") for n in range(5000)]
    inbox_env.dovecot.deliver_many(old, user=inbox_env.user)
    settings = inbox_env.settings(baseline_existing=True)
    timings: dict[str, float] = {}
    async with inbox_env.running(settings) as service:
        await inbox_env.teach(service, ticket_id, reference)
        started = time.monotonic()
        baseline: PollReport = await service.poller.poll_once()
        timings["baseline"] = time.monotonic() - started

        inbox_env.dovecot.deliver_many(
            [
                status_mail(reference, "12345", "Зарегистрирована"),
                status_mail(reference, "12345", "В работе", date="Thu, 26 Nov 2026 11:00 +0300"),
                status_mail(reference, "12345", "Выполнена", date="Thu, 26 Nov 2026 12:00 +0300"),
            ],
            user=inbox_env.user,
        )
        started = time.monotonic()
        report = await service.poller.poll_once()
        timings["new"] = time.monotonic() - started
        events = await inbox_env.events.wait_for(3)

    print(f"5000+3 timings: {timings}")  # shown with -s; the bound below keeps CI honest
    assert (baseline.listed, baseline.baseline, baseline.retrieved) == (5000, 5000, 0)
    assert (report.listed, report.new, report.retrieved) == (5003, 3, 3)
    assert [s.retr for s in inbox_env.sessions(2)] == [0, 3]
    assert [body["status"] for _, body in events] == ["registered", "in_progress", "resolved"]
    assert timings["baseline"] + timings["new"] < 20
