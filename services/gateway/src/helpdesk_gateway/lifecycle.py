"""Ticket lifecycle events from the mailer and the inbox, applied to the ticket and told to its
author once: a repeated event, or the same news read twice, changes nothing and says nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable

from helpdesk_contracts.ticket.v1 import (
    TicketEmailed,
    TicketEmailFailed,
    TicketStatus,
    TicketStatusChanged,
)

from helpdesk_gateway.adapters.notifications import Notification
from helpdesk_gateway.context import GatewayContext
from helpdesk_gateway.domain import tickets as rules
from helpdesk_gateway.domain.tickets import Change, TicketRecord
from helpdesk_gateway.errors import GatewayError
from helpdesk_gateway.i18n import Texts
from helpdesk_gateway.keyboards.conversation import answer_button, solved_question
from helpdesk_gateway.keyboards.tickets import stars
from helpdesk_gateway.notifier import markup_to_doc
from helpdesk_gateway.views import status_text

log = logging.getLogger("helpdesk.gateway.lifecycle")

TicketEvent = TicketEmailed | TicketEmailFailed | TicketStatusChanged
APPLY_ATTEMPTS = 5


class TicketBusyError(GatewayError):
    """The ticket changed under every attempt to apply an event (retried later)."""


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


async def apply_ticket_event(ctx: GatewayContext, event: TicketEvent) -> None:
    decide: Callable[[TicketRecord], Change]
    if isinstance(event, TicketEmailed):
        decide = lambda ticket: rules.on_emailed(ticket, event)  # noqa: E731
    elif isinstance(event, TicketEmailFailed):
        decide = lambda ticket: rules.on_email_failed(ticket, event)  # noqa: E731
    else:
        decide = lambda ticket: rules.on_status_changed(ticket, event, ctx.clock())  # noqa: E731
    message_id = str(event.message_id)
    for _ in range(APPLY_ATTEMPTS):
        ticket = await ctx.tickets.get(event.ticket_id)
        if ticket is None or ticket.reference != event.reference:
            log.warning(
                "event for a ticket the gateway does not know",
                extra={"ticket_id": event.ticket_id, "reference": event.reference},
            )
            return
        applied = ticket.applied(message_id)
        if applied is not None:
            # Redelivered: make sure its message was queued (the queue ignores a second copy).
            if applied.notify:
                await _tell(ctx, ticket, event, ask_rating=applied.ask_rating)
            return
        change = decide(ticket)
        if await ctx.tickets.apply(ticket, message_id, change):
            if change.notify:
                await _tell(ctx, ticket, event, ask_rating=change.ask_rating)
            return
    raise TicketBusyError(event.ticket_id)


async def _tell(
    ctx: GatewayContext, ticket: TicketRecord, event: TicketEvent, *, ask_rating: bool
) -> None:
    user = await ctx.users.get(ticket.user_id)
    t = ctx.i18n.texts(user.locale if user else ticket.locale)
    if await ctx.notifications.enqueue(
        render(t, ticket, event, ask_rating=ask_rating), ctx.clock()
    ):
        ctx.wake_notifier()
