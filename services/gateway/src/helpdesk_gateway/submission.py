"""Send: a draft becomes a stored ticket and a TicketSubmitted in its outbox, exactly once."""

from __future__ import annotations

from helpdesk_contracts.base import Locale
from helpdesk_contracts.ticket.v1 import Attachment, TicketSubmitted

from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.context import GatewayContext
from helpdesk_gateway.domain.drafts import TicketDraft
from helpdesk_gateway.domain.photos import JPEG
from helpdesk_gateway.domain.tickets import TicketRecord, new_reference
from helpdesk_gateway.errors import GatewayError


class CategoryGoneError(GatewayError):
    """The draft's category left the catalogue (it was reloaded) while the user was writing."""


async def submit_ticket(
    ctx: GatewayContext, user: GatewayUser, draft: TicketDraft, locale: Locale
) -> tuple[TicketRecord, bool]:
    """Store the ticket with its event; (ticket, created). A second Send of a draft creates
    nothing and returns the first ticket."""
    catalogue = ctx.catalogue.current
    if draft.category is None or catalogue.get(draft.category) is None:
        raise CategoryGoneError(draft.category or "")
    if draft.description is None:
        raise ValueError("draft has no description")
    category = catalogue.to_contract(draft.category)
    requester = user.requester()
    now = ctx.clock()
    attachments = [
        Attachment(
            file_id=photo.file_id,
            filename=f"photo-{index}.jpg",
            content_type=JPEG,
            size=photo.size,
            sha256=photo.sha256,
        )
        for index, photo in enumerate(draft.photos, start=1)
    ]
    description = draft.description

    def record(ticket_id: str, reference: str) -> TicketRecord:
        return TicketRecord(
            id=ticket_id,
            reference=reference,
            draft_id=draft.draft_id,
            user_id=user.telegram_user_id,
            chat_id=user.chat_id,
            locale=locale,
            requester=requester,
            category=category,
            description=description,
            location=draft.location,
            attachments=attachments,
            submitted_at=now,
        )

    def event(ticket: TicketRecord) -> TicketSubmitted:
        return TicketSubmitted(
            ticket_id=ticket.id,
            reference=ticket.reference,
            requester=ticket.requester,
            chat_id=ticket.chat_id,
            category=ticket.category,
            description=ticket.description,
            location=ticket.location,
            attachments=ticket.attachments,
            submitted_at=ticket.submitted_at,
            locale=ticket.locale,
        )

    ticket, created = await ctx.tickets.submit(record, event, new_reference)
    await ctx.attachments.assign(draft.photo_ids(), ticket.id)
    if draft.location:
        await ctx.users.set_last_location(user.telegram_user_id, draft.location)
    # The caller wakes the outbox relay once the employee has been told: otherwise the
    # "emailed" notification can overtake the confirmation in the per-chat pacing queue.
    return ticket, created
