"""Rating use cases: publish a rating once, remind once, and close ratings left without comment."""

from __future__ import annotations

import logging
from datetime import timedelta

from helpdesk_gateway.adapters.notifications import Notification
from helpdesk_gateway.context import GatewayContext
from helpdesk_gateway.keyboards.tickets import stars
from helpdesk_gateway.views import ticket_label

log = logging.getLogger("helpdesk.gateway.ratings")


async def finish(ctx: GatewayContext, ticket_id: str, comment: str | None) -> bool:
    """Queue TicketRated with the comment (or none); False when it was published already."""
    ticket = await ctx.tickets.get(ticket_id)
    if ticket is None:
        return False
    published = await ctx.tickets.publish_rating(ticket, comment, ctx.clock())
    if published:
        ctx.relay.notify()
    return published


async def send_reminders(ctx: GatewayContext) -> int:
    """One reminder per ticket whose rating question went unanswered for the configured time."""
    now = ctx.clock()
    cutoff = now - timedelta(seconds=ctx.settings.rating_reminder_after_seconds)
    sent = 0
    for ticket in await ctx.tickets.due_reminders(cutoff):
        if not await ctx.tickets.mark_reminded(ticket.id, now):
            continue
        user = await ctx.users.get(ticket.user_id)
        t = ctx.i18n.texts(user.locale if user else ticket.locale)
        notification = Notification(
            key=f"rating-reminder:{ticket.id}",
            chat_id=user.chat_id if user else ticket.chat_id,
            text=t("rating-reminder", ticket=ticket_label(t, ticket)),
            markup=stars(t, ticket.id).model_dump(mode="json", exclude_none=True),
        )
        if await ctx.notifications.enqueue(notification, now):
            sent += 1
    if sent:
        ctx.wake_notifier()
        log.info("rating reminders queued", extra={"count": sent})
    return sent


async def finish_abandoned(ctx: GatewayContext) -> int:
    """Publish ratings whose optional comment never came."""
    now = ctx.clock()
    cutoff = now - timedelta(seconds=ctx.settings.rating_comment_timeout_seconds)
    done = 0
    for ticket in await ctx.tickets.unpublished_ratings(cutoff):
        if await ctx.tickets.publish_rating(ticket, None, now):
            done += 1
    if done:
        ctx.relay.notify()
    return done
