"""The janitor's own view of ticket state survives redelivery and out-of-order events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from helpdesk_contracts.ticket.v1 import TicketStatus
from helpdesk_janitor.adapters.tickets import TicketStore
from helpdesk_janitor.policy import TicketState
from pymongo.asynchronous.database import AsyncDatabase

from tests.integration.janitor import world
from tests.integration.janitor.conftest import Clock

pytestmark = pytest.mark.integration

Document = dict[str, Any]
DAY = timedelta(days=1)


async def state(store: TicketStore, n: int) -> TicketState:
    [found] = await store.linked([world.ticket_id(n)], [])
    return found


async def test_events_in_any_order_and_twice_give_one_state(
    mongo_db: AsyncDatabase[Document], clock: Clock
) -> None:
    store = TicketStore(mongo_db)
    await store.create_indexes()
    now = clock.now
    closed = world.status(1, TicketStatus.CLOSED, now - 2 * DAY)
    in_progress = world.status(1, TicketStatus.IN_PROGRESS, now - 5 * DAY)
    # The later status first, the earlier one late, and everything delivered twice.
    for _ in range(2):
        await store.record_status(closed)
        await store.record_status(in_progress)
        await store.record_emailed(world.emailed(1, now - 9 * DAY))
        await store.record_emailed(world.emailed(1, now - 8 * DAY))  # a resend: first one counts
        await store.record_rated(world.rated(1, now - 1 * DAY))
        await store.record_rated(world.rated(1, now - 3 * DAY))
        await store.record_submitted(world.submitted(1, now - 10 * DAY, ["a" * 24]))

    assert await state(store, 1) == TicketState(
        ticket_id=world.ticket_id(1),
        reference=world.reference(1),
        submitted_at=now - 10 * DAY,
        emailed_at=now - 9 * DAY,
        status=TicketStatus.CLOSED,
        status_at=now - 2 * DAY,
        rated_at=now - 1 * DAY,
        file_ids=frozenset({"a" * 24}),
    )
    assert await mongo_db.janitor_tickets.count_documents({}) == 1


async def test_a_ticket_is_found_by_a_photo_it_lists(
    mongo_db: AsyncDatabase[Document], clock: Clock
) -> None:
    store = TicketStore(mongo_db)
    await store.record_submitted(world.submitted(2, clock.now, ["b" * 24, "c" * 24]))
    await store.record_submitted(world.submitted(3, clock.now))
    found = await store.linked([], ["c" * 24, "d" * 24])
    assert [t.ticket_id for t in found] == [world.ticket_id(2)]
