"""The new-ticket wizard's use case: a draft is started, filled in step by step under the
limits in domain/drafts.py, and sent as a stored ticket with a TicketSubmitted in its outbox,
exactly once per draft; a dropped draft takes its photos with it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from helpdesk_contracts.base import Locale
from helpdesk_contracts.ticket.v1 import Attachment, TicketSubmitted

from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.domain.catalogue import Catalogue
from helpdesk_gateway.domain.drafts import (
    DraftLimits,
    Problem,
    TicketDraft,
    clean_location,
    description_problem,
)
from helpdesk_gateway.domain.photos import JPEG
from helpdesk_gateway.domain.tickets import TicketRecord, new_reference
from helpdesk_gateway.errors import GatewayError
from helpdesk_gateway.ports import Clock, Wake


class CategoryGoneError(GatewayError):
    """The draft's category left the catalogue (it was reloaded) while the user was writing."""


class Catalogues(Protocol):
    current: Catalogue


class SubmittedTickets(Protocol):
    async def submit(
        self,
        record: Callable[[str, str], TicketRecord],
        event: Callable[[TicketRecord], TicketSubmitted],
        new_reference: Callable[[], str],
    ) -> tuple[TicketRecord, bool]: ...

    async def by_draft(self, draft_id: str) -> TicketRecord | None: ...


class Photos(Protocol):
    async def assign(self, file_ids: list[str], ticket_id: str) -> None: ...

    async def discard(self, file_ids: list[str]) -> None: ...


class Places(Protocol):
    async def set_last_location(self, user_id: int, location: str) -> None: ...

    async def clear_location(self, user_id: int) -> bool: ...


@dataclass
class TicketWizard:
    catalogue: Catalogues
    tickets: SubmittedTickets
    photos: Photos
    places: Places
    limits: DraftLimits
    clock: Clock
    wake_relay: Wake

    def new_draft(self) -> TicketDraft:
        return TicketDraft(started_at=self.clock())

    def describe(self, draft: TicketDraft, text: str) -> Problem | None:
        """Take the description (text or a photo's caption) unless a limit says no."""
        problem = description_problem(text, self.limits)
        if problem is None:
            draft.description = text.strip()
        return problem

    def locate(self, draft: TicketDraft, text: str) -> Problem | None:
        place = clean_location(text, self.limits)
        if isinstance(place, Problem):
            return place
        draft.location = place
        return None

    async def drop(self, draft: TicketDraft | None) -> None:
        """A draft that will not be sent: its photos go."""
        if draft is not None:
            await self.photos.discard(draft.photo_ids())

    async def clear_photos(self, draft: TicketDraft) -> None:
        await self.photos.discard(draft.photo_ids())
        draft.photos = []

    async def forget_place(self, user_id: int) -> None:
        await self.places.clear_location(user_id)

    async def sent_before(self, draft_id: str, user_id: int) -> TicketRecord | None:
        """The user's ticket made from this draft, when it was sent already."""
        ticket = await self.tickets.by_draft(draft_id)
        return ticket if ticket is not None and ticket.user_id == user_id else None

    async def submit(
        self, user: GatewayUser, draft: TicketDraft, locale: Locale
    ) -> tuple[TicketRecord, bool]:
        """Store the ticket with its event; (ticket, created). A second Send of a draft creates
        nothing and returns the first ticket. The caller wakes the relay (`announce`) once the
        employee was told: otherwise "emailed" could overtake the confirmation."""
        record = self._record(user, draft, locale)
        ticket, created = await self.tickets.submit(record, submitted_event, new_reference)
        await self.photos.assign(draft.photo_ids(), ticket.id)
        if draft.location:
            await self.places.set_last_location(user.telegram_user_id, draft.location)
        return ticket, created

    def announce(self) -> None:
        """The employee knows the ticket is in: its TicketSubmitted may go out now."""
        self.wake_relay()

    def _record(
        self, user: GatewayUser, draft: TicketDraft, locale: Locale
    ) -> Callable[[str, str], TicketRecord]:
        catalogue = self.catalogue.current
        if draft.category is None or catalogue.get(draft.category) is None:
            raise CategoryGoneError(draft.category or "")
        if draft.description is None:
            raise ValueError("draft has no description")
        category = catalogue.to_contract(draft.category)
        description = draft.description
        now = self.clock()

        def record(ticket_id: str, reference: str) -> TicketRecord:
            return TicketRecord(
                id=ticket_id,
                reference=reference,
                draft_id=draft.draft_id,
                user_id=user.telegram_user_id,
                chat_id=user.chat_id,
                locale=locale,
                requester=user.requester(),
                category=category,
                description=description,
                location=draft.location,
                attachments=attachments(draft),
                submitted_at=now,
            )

        return record


def attachments(draft: TicketDraft) -> list[Attachment]:
    return [
        Attachment(
            file_id=photo.file_id,
            filename=f"photo-{index}.jpg",
            content_type=JPEG,
            size=photo.size,
            sha256=photo.sha256,
        )
        for index, photo in enumerate(draft.photos, start=1)
    ]


def submitted_event(ticket: TicketRecord) -> TicketSubmitted:
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
