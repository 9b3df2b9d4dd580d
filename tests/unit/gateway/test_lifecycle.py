"""TicketLifecycle with in-memory fakes: what the author is told about each ticket event."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from helpdesk_contracts.ticket.v1 import (
    Category,
    Requester,
    TicketEmailed,
    TicketStatus,
    TicketStatusChanged,
)
from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.domain.tickets import AppliedEvent, Change, TicketRecord
from helpdesk_gateway.i18n import I18n
from helpdesk_gateway.lifecycle import TicketLifecycle
from helpdesk_gateway.messages import Messages
from helpdesk_runtime.optimistic import ConflictError

from tests.unit.gateway.fakes import FakeQueue

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TICKET = TicketRecord(
    id="6745a1f2c3d4e5f601234560",
    reference="TG-7F3A2C",
    draft_id="d1",
    user_id=5,
    chat_id=5,
    locale="en",
    requester=Requester(
        telegram_user_id=5, email="maria.ivanova@example.com", display_name="Maria Ivanova"
    ),
    category=Category(code="printers", title="Printers"),
    description="The printer on floor 3 jams.",
    submitted_at=NOW,
)


@dataclass
class FakeTickets:
    ticket: TicketRecord | None
    races: int = 0
    """How many writes lose to a concurrent writer before one wins."""
    applied: list[tuple[str, Change]] = field(default_factory=list)

    async def get(self, ticket_id: str) -> TicketRecord | None:
        return self.ticket if self.ticket and self.ticket.id == ticket_id else None

    async def apply(self, ticket: TicketRecord, message_id: str, change: Change) -> bool:
        if self.races:
            self.races -= 1
            return False
        self.applied.append((message_id, change))
        assert self.ticket is not None
        self.ticket = replace_applied(self.ticket, message_id, change)
        return True


def replace_applied(ticket: TicketRecord, message_id: str, change: Change) -> TicketRecord:
    event = AppliedEvent(id=message_id, notify=change.notify, ask_rating=change.ask_rating)
    return ticket.model_copy(update={"applied_events": [*ticket.applied_events, event]})


@dataclass
class FakeUsers:
    async def get(self, user_id: int) -> GatewayUser | None:
        return None  # the ticket's own locale is used


@dataclass
class World:
    tickets: FakeTickets
    queue: FakeQueue = field(default_factory=FakeQueue)
    wakes: int = 0

    def lifecycle(self) -> TicketLifecycle:
        def wake() -> None:
            self.wakes += 1

        return TicketLifecycle(
            tickets=self.tickets,
            users=FakeUsers(),
            notifications=self.queue,
            messages=Messages(I18n.load()),
            clock=lambda: NOW,
            wake_notifier=wake,
        )


def emailed() -> TicketEmailed:
    return TicketEmailed(
        ticket_id=TICKET.id,
        reference=TICKET.reference,
        email_message_id=f"<{TICKET.reference}.{TICKET.id}@helpdesk.example.com>",
        sent_at=NOW,
    )


async def test_the_author_is_told_once_that_the_ticket_was_emailed() -> None:
    world = World(FakeTickets(TICKET))
    event = emailed()
    await world.lifecycle().apply(event)
    await world.lifecycle().apply(event)  # redelivered
    [told] = world.queue.queued.values()
    assert told.chat_id == TICKET.chat_id
    assert TICKET.reference in told.text and "sent to IT support" in told.text
    assert len(world.tickets.applied) == 1
    assert world.wakes == 1


async def test_a_resolved_ticket_asks_whether_it_is_solved_with_buttons() -> None:
    """Every resolution asks «Проблема решена?»: «Да» leads to the rating, «Нет» reopens."""
    world = World(FakeTickets(TICKET))
    event = TicketStatusChanged(
        ticket_id=TICKET.id,
        reference=TICKET.reference,
        status=TicketStatus.RESOLVED,
        changed_at=NOW,
    )
    await world.lifecycle().apply(event)
    [told] = world.queue.queued.values()
    assert "resolved" in told.text and "solved?" in told.text
    assert told.markup is not None
    buttons = [b["callback_data"] for row in told.markup["inline_keyboard"] for b in row]
    assert any(":solved:" in data for data in buttons)
    assert any(":reopen:" in data for data in buttons)


async def test_an_event_for_an_unknown_ticket_tells_nobody() -> None:
    world = World(FakeTickets(None))
    await world.lifecycle().apply(emailed())
    assert world.queue.queued == {}


async def test_a_lost_race_is_read_again_and_a_lasting_one_is_a_conflict() -> None:
    world = World(FakeTickets(TICKET, races=2))
    await world.lifecycle().apply(emailed())
    assert len(world.queue.queued) == 1
    busy = World(FakeTickets(TICKET, races=100))
    with pytest.raises(ConflictError):
        await busy.lifecycle().apply(emailed())
    assert busy.queue.queued == {}
