"""Inbox replicas share one mailbox: one polls, the others stand by and take over when it stops."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from helpdesk_inbox.app import POLL_LEASES, InboxService
from pydantic import ValidationError

from tests.integration.inbox.conftest import InboxEnv, new_ticket, notification
from tests.support.wait import eventually

pytestmark = pytest.mark.integration


def polls(service: InboxService, result: str) -> float:
    value = service.runtime.metrics.registry.get_sample_value(
        "helpdesk_inbox_polls_total", {"result": result}
    )
    return value or 0.0


def status_mail(reference: str) -> bytes:
    return notification(
        subject=f"Заявка №12345 [{reference}] Не печатает принтер",
        body="Статус заявки изменен на «В работе».\n",
    )


async def test_one_replica_polls_and_the_other_takes_over_when_it_stops(
    inbox_env: InboxEnv,
) -> None:
    settings = inbox_env.settings(poll_enabled=True, poll_interval_seconds=0.2)
    ticket_id, reference = new_ticket()
    # The replicas' lifetimes overlap without nesting: the first stops while the second runs.
    async with contextlib.AsyncExitStack() as first_lifetime:
        first = await first_lifetime.enter_async_context(inbox_env.running(settings))
        await eventually(lambda: polls(first, "ok") >= 1, what="the first replica polls")
        async with inbox_env.running(settings) as second:
            await eventually(lambda: polls(second, "standby") >= 3, what="the second one stands by")
            holder = second.poller.standing_by
            assert holder is not None and holder.owner == first.poller.owner
            assert polls(second, "ok") == 0
            polled_by_first = polls(first, "ok")
            assert polled_by_first >= 3  # both were running meanwhile, one of them polled

            await inbox_env.teach(second, ticket_id, reference)
            await first_lifetime.aclose()  # the first stops and lets go of the lease
            # Taken over at once, not when the lease (30 s here) would have run out.
            await eventually(
                lambda: polls(second, "ok") >= 1, what="the second replica polls", within=5.0
            )
            assert second.poller.standing_by is None
            inbox_env.dovecot.deliver(status_mail(reference), user=inbox_env.user)
            [(key, event)] = await inbox_env.events.wait_for(1)
    assert key == "ticket.status_changed.v1"
    assert (event["reference"], event["status"]) == (reference, "in_progress")


async def test_a_crashed_pollers_lease_is_taken_over_when_it_expires(inbox_env: InboxEnv) -> None:
    # A replica that died mid-poll left its lease behind, good for two more seconds.
    settings = inbox_env.settings(poll_enabled=True, poll_interval_seconds=0.2)
    expires = datetime.now(UTC) + timedelta(seconds=2)
    await inbox_env.db[POLL_LEASES].insert_one(
        {"_id": settings.mailbox, "owner": "gone:1:dead", "expires_at": expires}
    )
    async with inbox_env.running(settings) as replica:
        await eventually(lambda: polls(replica, "standby") >= 1, what="the replica stands by")
        holder = replica.poller.standing_by
        assert holder is not None and holder.owner == "gone:1:dead"
        assert polls(replica, "ok") == 0
        await eventually(lambda: polls(replica, "ok") >= 1, what="the replica takes over")
        assert datetime.now(UTC) >= expires
    lease = await inbox_env.db[POLL_LEASES].find_one({"_id": settings.mailbox})
    assert lease is None  # released on shutdown


def test_a_lease_shorter_than_the_poll_interval_is_refused(inbox_env: InboxEnv) -> None:
    with pytest.raises(ValidationError, match="INBOX_POLL_LEASE_SECONDS must be longer"):
        inbox_env.settings(poll_interval_seconds=60, poll_lease_seconds=30)


async def test_polling_without_a_lease_contender_is_unchanged(inbox_env: InboxEnv) -> None:
    # Explicit lease length, one replica: it polls every interval and holds the lease meanwhile.
    settings = inbox_env.settings(
        poll_enabled=True, poll_interval_seconds=0.2, poll_lease_seconds=10
    )
    async with inbox_env.running(settings) as replica:
        await eventually(lambda: polls(replica, "ok") >= 3, what="three polls")
        lease = await inbox_env.db[POLL_LEASES].find_one({"_id": settings.mailbox})
        assert lease is not None and lease["owner"] == replica.poller.owner
        assert lease["expires_at"].replace(tzinfo=UTC) > datetime.now(UTC) + timedelta(seconds=8)
