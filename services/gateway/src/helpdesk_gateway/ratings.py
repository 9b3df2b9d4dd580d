"""Rating a resolved ticket: the stars are kept once, TicketRated goes out once (with the
optional comment, or without it when none came), and an unanswered question is reminded once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from helpdesk_gateway.adapters.notifications import Notification
from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.domain.tickets import RATABLE, TicketRecord
from helpdesk_gateway.ports import Clock, Queue, TicketReader, Users, Wake

log = logging.getLogger("helpdesk.gateway.ratings")


class RatedTickets(TicketReader, Protocol):
    async def rate(self, ticket_id: str, user_id: int, stars: int, now: datetime) -> bool: ...

    async def publish_rating(
        self, ticket: TicketRecord, comment: str | None, now: datetime
    ) -> bool: ...

    async def due_reminders(self, asked_before: datetime) -> list[TicketRecord]: ...

    async def mark_reminded(self, ticket_id: str, now: datetime) -> bool: ...

    async def unpublished_ratings(self, rated_before: datetime) -> list[TicketRecord]: ...


class Presenter(Protocol):
    def rating_reminder(self, user: GatewayUser | None, ticket: TicketRecord) -> Notification: ...


@dataclass
class Ratings:
    tickets: RatedTickets
    users: Users
    queue: Queue
    messages: Presenter
    clock: Clock
    wake_notifier: Wake
    wake_relay: Wake
    remind_after: timedelta
    comment_timeout: timedelta

    async def rate(self, ticket: TicketRecord, user_id: int, stars: int) -> str | None:
        """Keep the stars; the locale key of why they were not taken, or None."""
        if ticket.rating.value is not None:
            return "rating-already"
        if ticket.status not in RATABLE:
            return "rating-not-available"
        if not await self.tickets.rate(ticket.id, user_id, stars, self.clock()):
            return "rating-already"
        return None

    async def finish(self, ticket_id: str, comment: str | None) -> bool:
        """Queue TicketRated with the comment (or none); False when it was published already."""
        ticket = await self.tickets.get(ticket_id)
        if ticket is None:
            return False
        published = await self.tickets.publish_rating(ticket, comment, self.clock())
        if published:
            self.wake_relay()
        return published

    async def send_reminders(self) -> int:
        """One reminder per ticket whose rating question went unanswered for the set time."""
        now = self.clock()
        sent = 0
        for ticket in await self.tickets.due_reminders(now - self.remind_after):
            if not await self.tickets.mark_reminded(ticket.id, now):
                continue
            user = await self.users.get(ticket.user_id)
            if await self.queue.enqueue(self.messages.rating_reminder(user, ticket), now):
                sent += 1
        if sent:
            self.wake_notifier()
            log.info("rating reminders queued", extra={"count": sent})
        return sent

    async def finish_abandoned(self) -> int:
        """Publish ratings whose optional comment never came."""
        now = self.clock()
        done = 0
        for ticket in await self.tickets.unpublished_ratings(now - self.comment_timeout):
            if await self.tickets.publish_rating(ticket, None, now):
                done += 1
        if done:
            self.wake_relay()
        return done
