"""Unforgeable and hard to fool: real Dovecot, RabbitMQ and the Mongo-wire server.

What the gateway (the employee) would see is the TicketStatusChanged events on the broker; what
an operator sees is the quarantine.
"""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import generate_latest

from tests.integration.inbox.conftest import InboxEnv, new_ticket, notification, status_mail

pytestmark = pytest.mark.integration


def forged(reference: str, number: str, body: str, *, padding: int = 0) -> bytes:
    """A mail from an employee pretending to be InfraManager (they know the helpdesk address)."""
    mail = notification(
        subject=f"Заявка №{number} [{reference}] Не печатает принтер", body=body + "x" * padding
    )
    return mail.replace(
        b"From: InfraManager <im@example.com>", b"From: InfraManager <im@example.com.evil.test>"
    )


async def test_a_forged_resolved_is_quarantined_and_only_the_genuine_status_is_announced(
    inbox_env: InboxEnv,
) -> None:
    ticket_id, reference = new_ticket()
    forgery = forged(
        reference, "12345", "Статус: Выполнена\nРешение: Всё сделано.\n", padding=200_000
    )
    async with inbox_env.running() as service:
        await inbox_env.teach(service, ticket_id, reference)
        inbox_env.dovecot.deliver_many(
            [forgery, status_mail(reference, "12345", "В работе")], user=inbox_env.user
        )
        report = await service.poller.poll_once()
        events = await inbox_env.events.wait_for(2)
        metrics = generate_latest(service.runtime.metrics.registry).decode()  # what /metrics shows

    assert [body["status"] for body in inbox_env.events.status_changes] == ["in_progress"]
    assert 'helpdesk_inbox_quarantined_total{reason="untrusted_sender"} 1.0' in metrics
    [unmatched] = inbox_env.events.unmatched
    assert unmatched["reason"] == "untrusted_sender"
    assert "im@example.com.evil.test is not in INBOX_TRUSTED_SENDERS" in unmatched["detail"]
    assert len(events) == 2
    assert (report.outcomes["announced"], report.outcomes["quarantined"]) == (1, 1)
    kept = await inbox_env.db["inbox_quarantine"].find_one({"reason": "untrusted_sender"})
    assert kept is not None
    # An outsider's mail is kept as evidence only: the headers and the first 64 KB.
    assert kept["truncated"] is True
    assert kept["raw_size"] > 200_000
    assert len(kept["raw"]) < 70 * 1024
    assert bytes(kept["raw"]).startswith(b"From: InfraManager <im@example.com.evil.test>")
    # The forgery changed nothing: the ticket's status is the genuine one.
    link = await inbox_env.db["itsm_links"].find_one({"_id": ticket_id})
    assert link is not None
    assert link["status"] == "in_progress"


async def test_a_mail_dated_a_day_ahead_does_not_block_the_next_status(
    inbox_env: InboxEnv,
) -> None:
    ticket_id, reference = new_ticket()
    tomorrow = email.utils.format_datetime(datetime.now(UTC) + timedelta(days=1))
    now = email.utils.format_datetime(datetime.now(UTC))
    async with inbox_env.running() as service:
        await inbox_env.teach(service, ticket_id, reference)
        inbox_env.dovecot.deliver(
            status_mail(reference, "12345", "В работе", date=tomorrow), user=inbox_env.user
        )
        await service.poller.poll_once()
        await inbox_env.events.wait_for(1)
        inbox_env.dovecot.deliver(
            status_mail(reference, "12345", "Выполнена", date=now), user=inbox_env.user
        )
        report = await service.poller.poll_once()
        await inbox_env.events.wait_for(2)

    changes = inbox_env.events.status_changes
    assert [body["status"] for body in changes] == ["in_progress", "resolved"]
    assert report.outcomes["announced"] == 1
    # Ordered by arrival, so the gateway (which drops older changes) shows "resolved" too.
    first, second = (datetime.fromisoformat(body["changed_at"]) for body in changes)
    assert first < second <= datetime.now(UTC)


def wedging_mail() -> bytes:
    """A 2 MB header, a 2 MB Subject of bytes in no charset, MIME nested 2000 deep and a
    made-up charset over binary junk."""
    nested = b""
    for depth in range(2000):
        nested += f"--b{depth}\nContent-Type: multipart/mixed; boundary=b{depth + 1}\n\n".encode()
    head = (
        b"From: InfraManager <im@example.com>\nTo: helpdesk@example.com\n"
        b"Subject: " + b"\xff\xfe" * 1_000_000 + b"\n"
        b"X-Junk: " + b"A" * 2_000_000 + b"\n"
        b"Date: Thu, 26 Nov 2026 10:31:00 +0300\nMIME-Version: 1.0\n"
        b"Content-Type: multipart/mixed; boundary=b0\n\n"
    )
    tail = b"--b2000\nContent-Type: text/plain; charset=x-klingon\n\n\x00\x01\x02\xff" * 10
    return head + nested + tail


async def test_a_wedging_mail_does_not_stop_the_good_one_after_it_in_the_same_poll(
    inbox_env: InboxEnv,
) -> None:
    ticket_id, reference = new_ticket()
    async with inbox_env.running() as service:
        await inbox_env.teach(service, ticket_id, reference)
        inbox_env.dovecot.deliver_many(
            [wedging_mail(), status_mail(reference, "12345", "В работе")], user=inbox_env.user
        )
        report = await service.poller.poll_once()
        await inbox_env.events.wait_for(2, within=30)

    assert [body["status"] for body in inbox_env.events.status_changes] == ["in_progress"]
    # Kept for an operator as InfraManager's mail that could not be read, not as an outsider's.
    assert [body["reason"] for body in inbox_env.events.unmatched] == ["no_match"]
    assert (report.retrieved, report.outcomes["announced"], report.outcomes["quarantined"]) == (
        2,
        1,
        1,
    )


async def test_status_not_done_is_never_announced_as_done(inbox_env: InboxEnv) -> None:
    ticket_id, reference = new_ticket()
    async with inbox_env.running() as service:
        await inbox_env.teach(service, ticket_id, reference)
        inbox_env.dovecot.deliver(
            status_mail(reference, "12345", "Не выполнена"), user=inbox_env.user
        )
        await service.poller.poll_once()
        [(_, event)] = await inbox_env.events.wait_for(1)

    assert event["status"] == "unknown"
    assert event["raw_status"] == "Не выполнена"
    assert event["status"] != "resolved"
