"""DELE mode: a message leaves the server only after the event it caused is confirmed."""

from __future__ import annotations

import pytest

from tests.integration.inbox.conftest import InboxEnv, new_ticket, notification, status_mail

pytestmark = pytest.mark.integration


async def test_messages_are_deleted_only_once_their_events_are_confirmed(
    inbox_env: InboxEnv,
) -> None:
    ticket_id, reference = new_ticket()
    matched = status_mail(reference, "12345", "В работе")
    unmatched = notification(subject="Рассылка", body="Плановые работы в субботу.\n")
    oversized = notification(subject="Скриншоты", body="x" * 8000 + "\n")
    settings = inbox_env.settings(
        delete_after_processing=True, max_message_bytes=4096, confirm_timeout_seconds=0.5
    )
    inbox_env.dovecot.deliver_many([matched, unmatched, oversized], user=inbox_env.user)

    # The ticket is known, but no relay runs yet: the events are written, not published.
    async with inbox_env.running(settings) as service:
        await inbox_env.teach(service, ticket_id, reference)
    offline = inbox_env.build(settings)
    try:
        report = await offline.poller.poll_once()
    finally:
        await offline.runtime.mongo.close()
    assert report.outcomes["announced"] == 1
    assert report.outcomes["quarantined"] == 2
    assert report.deleted == 0
    assert inbox_env.dovecot.message_count(inbox_env.user) == 3
    assert inbox_env.events.received == []

    # With the relay running the events are confirmed, and the next session deletes.
    async with inbox_env.running(settings) as service:
        await inbox_env.events.wait_for(3)
        again = await service.poller.poll_once()

    assert (again.new, again.retrieved, again.deleted) == (0, 0, 2)
    # The oversized message was never downloaded: it stays on the server for an operator.
    assert inbox_env.dovecot.messages(inbox_env.user) == [oversized]
    sessions = inbox_env.sessions(2)
    assert [(s.retr, s.top, s.deleted) for s in sessions] == [(2, 1, 0), (0, 0, 2)]
    kinds = sorted(key for key, _ in inbox_env.events.received)
    assert kinds == ["inbox.message_unmatched.v1"] * 2 + ["ticket.status_changed.v1"]

    # The deleted UIDLs are forgotten; the next poll reads nothing and deletes nothing.
    async with inbox_env.running(settings) as service:
        last = await service.poller.poll_once()
    assert (last.listed, last.new, last.deleted) == (1, 0, 0)
    seen = await inbox_env.db["inbox_seen"].find_one({})
    assert seen is not None
    assert len(seen["uidls"]) == 1
    assert seen["dele_pending"] == []
