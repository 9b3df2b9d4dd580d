"""Ticket lifecycle events from the mailer and the inbox, applied to the ticket and told to its
author once: a repeated event, or the same news read twice, changes nothing and says nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from helpdesk_contracts.ticket.v1 import (
    TicketEmailed,
    TicketEmailFailed,
    TicketStatus,
    TicketStatusChanged,
)
from helpdesk_runtime.optimistic import CHANGED, Changed, optimistic_update

from helpdesk_gateway.adapters.notifications import Notification
from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.context import GatewayContext
from helpdesk_gateway.domain import tickets as rules
from helpdesk_gateway.domain.tickets import Change, TicketRecord
from helpdesk_gateway.i18n import I18n, Texts
from helpdesk_gateway.keyboards.conversation import answer_button, solved_question
from helpdesk_gateway.keyboards.tickets import stars
from helpdesk_gateway.notifier import markup_to_doc
from helpdesk_gateway.views import status_text

log = logging.getLogger("helpdesk.gateway.lifecycle")

TicketEvent = TicketEmailed | TicketEmailFailed | TicketStatusChanged


def render(t: Texts, ticket: TicketRecord, event: TicketEvent, *, ask_rating: bool) -> Notification:
    markup = None
    if isinstance(event, TicketEmailed):
        text = t("notify-emailed", reference=ticket.reference)
        if event.attachments_omitted:
            text += "\n" + t("notify-photos-omitted", omitted=event.attachments_omitted)
    elif isinstance(event, TicketEmailFailed):
        key = "notify-email-failed" if event.permanent else "notify-email-retrying"
        text = t(key, reference=ticket.reference)
    else:
        text = status_text(t, ticket, event, ask_rating=ask_rating)
        if event.status is TicketStatus.RESOLVED:
            # Every resolution asks «Проблема решена?»: «Да» leads to the rating, «Нет» reopens.
            markup = markup_to_doc(solved_question(t, ticket.id))
        elif event.status is TicketStatus.WAITING and event.comment:
            # InfraManager waits for the requester and says why: they can answer at once.
            text += "\n\n" + t("conversation-how-to-answer")
            markup = markup_to_doc(answer_button(t, ticket.id))
        elif ask_rating:
            markup = markup_to_doc(stars(t, ticket.id))
    return Notification(
        key=f"ticket:{event.message_id}", chat_id=ticket.chat_id, text=text, markup=markup
    )


class Tickets(Protocol):
    async def get(self, ticket_id: str) -> TicketRecord | None: ...

    async def apply(self, ticket: TicketRecord, message_id: str, change: Change) -> bool: ...


class Users(Protocol):
    async def get(self, user_id: int) -> GatewayUser | None: ...


class Notifications(Protocol):
    async def enqueue(self, notification: Notification, now: datetime) -> bool: ...


@dataclass
class TicketLifecycle:
    """Applies the mailer's and the inbox's ticket events and queues what the author is told."""

    tickets: Tickets
    users: Users
    notifications: Notifications
    i18n: I18n
    clock: Callable[[], datetime]
    wake_notifier: Callable[[], None]

    @classmethod
    def of(cls, ctx: GatewayContext) -> TicketLifecycle:
        return cls(
            tickets=ctx.tickets,
            users=ctx.users,
            notifications=ctx.notifications,
            i18n=ctx.i18n,
            clock=ctx.clock,
            wake_notifier=ctx.wake_notifier,
        )

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
        t = self.i18n.texts(user.locale if user else ticket.locale)
        notification = render(t, ticket, event, ask_rating=ask_rating)
        if await self.notifications.enqueue(notification, self.clock()):
            self.wake_notifier()
