"""Ratings with in-memory fakes: the stars kept once, TicketRated queued once, one reminder."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from helpdesk_contracts.ticket.v1 import TicketStatus
from helpdesk_gateway.domain.tickets import Rating, TicketRecord
from helpdesk_gateway.i18n import I18n
from helpdesk_gateway.messages import Messages
from helpdesk_gateway.ratings import Ratings

from tests.unit.gateway.factories import TICKET_ID, ticket
from tests.unit.gateway.fakes import NOW, FakeQueue, FakeUsers, Wakes, button_texts, employee


@dataclass
class FakeTickets:
    stored: dict[str, TicketRecord]
    published: list[tuple[str, str | None]] = field(default_factory=list)

    async def get(self, ticket_id: str) -> TicketRecord | None:
        return self.stored.get(ticket_id)

    async def rate(self, ticket_id: str, user_id: int, stars: int, now: datetime) -> bool:
        current = self.stored[ticket_id]
        if current.rating.value is not None or current.user_id != user_id:
            return False
        self._set(current, Rating(value=stars, rated_at=now))
        return True

    async def publish_rating(
        self, ticket: TicketRecord, comment: str | None, now: datetime
    ) -> bool:
        current = self.stored[ticket.id]
        if current.rating.published or current.rating.value is None:
            return False
        self._set(current, current.rating.model_copy(update={"published": True}))
        self.published.append((ticket.id, comment))
        return True

    async def due_reminders(self, asked_before: datetime) -> list[TicketRecord]:
        return [
            t
            for t in self.stored.values()
            if t.rating.value is None
            and t.rating.reminded_at is None
            and t.rating.requested_at is not None
            and t.rating.requested_at <= asked_before
        ]

    async def mark_reminded(self, ticket_id: str, now: datetime) -> bool:
        current = self.stored[ticket_id]
        if current.rating.reminded_at is not None:
            return False
        self._set(current, current.rating.model_copy(update={"reminded_at": now}))
        return True

    async def unpublished_ratings(self, rated_before: datetime) -> list[TicketRecord]:
        return [
            t
            for t in self.stored.values()
            if t.rating.value is not None
            and not t.rating.published
            and t.rating.rated_at is not None
            and t.rating.rated_at <= rated_before
        ]

    def _set(self, current: TicketRecord, rating: Rating) -> None:
        self.stored[current.id] = current.model_copy(update={"rating": rating})


@dataclass
class World:
    tickets: FakeTickets
    users: FakeUsers = field(default_factory=FakeUsers)
    queue: FakeQueue = field(default_factory=FakeQueue)
    notifier: Wakes = field(default_factory=Wakes)
    relay: Wakes = field(default_factory=Wakes)
    now: datetime = NOW

    def ratings(self) -> Ratings:
        return Ratings(
            tickets=self.tickets,
            users=self.users,
            queue=self.queue,
            messages=Messages(I18n.load()),
            clock=lambda: self.now,
            wake_notifier=self.notifier,
            wake_relay=self.relay,
            remind_after=timedelta(hours=24),
            comment_timeout=timedelta(minutes=30),
        )


def world_with(**overrides: object) -> World:
    record = ticket(**{"status": TicketStatus.RESOLVED, **overrides})
    return World(FakeTickets({record.id: record}))


async def test_the_stars_are_kept_once_and_only_for_a_finished_ticket() -> None:
    world = world_with()
    ratings, record = world.ratings(), world.tickets.stored[TICKET_ID]
    assert await ratings.rate(record, 1001, 4) is None
    assert world.tickets.stored[TICKET_ID].rating.value == 4
    assert await ratings.rate(world.tickets.stored[TICKET_ID], 1001, 1) == "rating-already"
    # A copy read before the first press lost the race: told the same.
    assert await ratings.rate(record, 1001, 1) == "rating-already"
    assert world.tickets.stored[TICKET_ID].rating.value == 4

    open_ticket = world_with(status=TicketStatus.IN_PROGRESS)
    refused = await open_ticket.ratings().rate(ticket(status=TicketStatus.IN_PROGRESS), 1001, 5)
    assert refused == "rating-not-available"
    assert open_ticket.tickets.stored[TICKET_ID].rating.value is None


async def test_ticket_rated_is_queued_once_with_the_comment_and_the_relay_woken() -> None:
    world = world_with(rating=Rating(value=2, rated_at=NOW))
    ratings = world.ratings()
    assert await ratings.finish(TICKET_ID, "Долго") is True
    assert await ratings.finish(TICKET_ID, None) is False
    assert await ratings.finish("6745a1f2c3d4e5f6012345ff", None) is False
    assert world.tickets.published == [(TICKET_ID, "Долго")]
    assert world.relay.count == 1


async def test_one_reminder_in_the_employees_language_with_the_stars() -> None:
    world = world_with(rating=Rating(requested_at=NOW - timedelta(hours=25)))
    world.users.known[1001] = employee(1001, "en")
    ratings = world.ratings()
    assert await ratings.send_reminders() == 1
    assert await ratings.send_reminders() == 0
    [reminder] = world.queue.queued.values()
    assert reminder.chat_id == 1001
    assert reminder.text == "A reminder: please rate the work on ticket TG-7F3A2C from 1 to 5:"
    assert button_texts(reminder) == ["1 ⭐", "2 ⭐", "3 ⭐", "4 ⭐", "5 ⭐"]
    assert world.notifier.count == 1


async def test_no_reminder_before_its_time() -> None:
    world = world_with(rating=Rating(requested_at=NOW - timedelta(hours=23)))
    assert await world.ratings().send_reminders() == 0
    assert world.queue.queued == {}
    assert world.notifier.count == 0


async def test_a_rating_whose_comment_never_came_goes_out_without_one() -> None:
    world = world_with(rating=Rating(value=5, rated_at=NOW - timedelta(minutes=31)))
    ratings = world.ratings()
    assert await ratings.finish_abandoned() == 1
    assert await ratings.finish_abandoned() == 0
    assert world.tickets.published == [(TICKET_ID, None)]
    assert world.relay.count == 1
