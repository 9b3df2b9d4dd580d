"""Ticket lifecycle events from the mailer and the inbox, applied to the ticket and told to its
author once: a repeated event, or the same news read twice, changes nothing and says nothing.

The lifecycle decides what changes and whether the author hears of it; how that reads (text,
buttons) is the presenter's business (messages.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from helpdesk_contracts.ticket.v1 import TicketEmailed, TicketEmailFailed, TicketStatusChanged
from helpdesk_runtime.optimistic import CHANGED, Changed, optimistic_update

from helpdesk_gateway.adapters.notifications import Notification
from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.domain import tickets as rules
from helpdesk_gateway.domain.tickets import Change, TicketRecord
from helpdesk_gateway.ports import Clock, Queue, TicketReader, Users, Wake

log = logging.getLogger("helpdesk.gateway.lifecycle")

TicketEvent = TicketEmailed | TicketEmailFailed | TicketStatusChanged


class Tickets(TicketReader, Protocol):
    async def apply(self, ticket: TicketRecord, message_id: str, change: Change) -> bool: ...


class Presenter(Protocol):
    """Turns the news into the employee's message (messages.Messages)."""

    def ticket_event(
        self,
        user: GatewayUser | None,
        ticket: TicketRecord,
        event: TicketEvent,
        *,
        ask_rating: bool,
    ) -> Notification: ...


@dataclass
class TicketLifecycle:
    """Applies the mailer's and the inbox's ticket events and queues what the author is told."""

    tickets: Tickets
    users: Users
    notifications: Queue
    messages: Presenter
    clock: Clock
    wake_notifier: Wake

    async def apply(self, event: TicketEvent) -> None:
        decide = self._decision(event)
        message_id = str(event.message_id)

        async def step() -> Changed | None:
            ticket = await self.tickets.get(event.ticket_id)
            if ticket is None or ticket.reference != event.reference:
                log.warning(
                    "event for a ticket the gateway does not know",
                    extra={"ticket_id": event.ticket_id, "reference": event.reference},
                )
                return None
            applied = ticket.applied(message_id)
            if applied is not None:
                # Redelivered: make sure its message was queued (the queue ignores a second copy).
                if applied.notify:
                    await self._tell(ticket, event, ask_rating=applied.ask_rating)
                return None
            change = decide(ticket)
            if not await self.tickets.apply(ticket, message_id, change):
                return CHANGED
            if change.notify:
                await self._tell(ticket, event, ask_rating=change.ask_rating)
            return None

        await optimistic_update(step, what=f"ticket {event.ticket_id}")

    def _decision(self, event: TicketEvent) -> Callable[[TicketRecord], Change]:
        if isinstance(event, TicketEmailed):
            return lambda ticket: rules.on_emailed(ticket, event)
        if isinstance(event, TicketEmailFailed):
            return lambda ticket: rules.on_email_failed(ticket, event)
        return lambda ticket: rules.on_status_changed(ticket, event, self.clock())

    async def _tell(self, ticket: TicketRecord, event: TicketEvent, *, ask_rating: bool) -> None:
        user = await self.users.get(ticket.user_id)
        notification = self.messages.ticket_event(user, ticket, event, ask_rating=ask_rating)
        if await self.notifications.enqueue(notification, self.clock()):
            self.wake_notifier()
