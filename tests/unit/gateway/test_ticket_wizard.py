"""TicketWizard with in-memory fakes: what a draft may hold, and what Send stores."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from helpdesk_contracts.ticket.v1 import TicketSubmitted
from helpdesk_gateway.domain.catalogue import CatalogueHolder
from helpdesk_gateway.domain.drafts import DraftLimits, DraftPhoto, Problem, TicketDraft
from helpdesk_gateway.domain.tickets import TicketRecord
from helpdesk_gateway.ticket_wizard import CategoryGoneError, TicketWizard

from tests.unit.gateway.fakes import NOW, Wakes, employee

LIMITS = DraftLimits(description_min=5, description_max=50, location_max=20, max_photos=3)
PHOTO = DraftPhoto(file_id="a" * 24, size=1000, sha256="f" * 64, width=10, height=10)


@dataclass
class FakeTickets:
    """Tickets by id, with their TicketSubmitted; one ticket per draft."""

    stored: dict[str, TicketRecord] = field(default_factory=dict)
    events: list[TicketSubmitted] = field(default_factory=list)

    async def submit(
        self,
        record: Callable[[str, str], TicketRecord],
        event: Callable[[TicketRecord], TicketSubmitted],
        new_reference: Callable[[], str],
    ) -> tuple[TicketRecord, bool]:
        ticket = record("6745a1f2c3d4e5f60123456" + str(len(self.stored)), new_reference())
        earlier = await self.by_draft(ticket.draft_id)
        if earlier is not None:
            return earlier, False
        self.stored[ticket.id] = ticket
        self.events.append(event(ticket))
        return ticket, True

    async def by_draft(self, draft_id: str) -> TicketRecord | None:
        return next((t for t in self.stored.values() if t.draft_id == draft_id), None)


@dataclass
class FakePhotos:
    kept: dict[str, str | None] = field(default_factory=lambda: {PHOTO.file_id: None})
    """file id -> the ticket it belongs to (None: a draft's)."""

    async def assign(self, file_ids: list[str], ticket_id: str) -> None:
        for file_id in file_ids:
            self.kept[file_id] = ticket_id

    async def discard(self, file_ids: list[str]) -> None:
        for file_id in file_ids:
            if self.kept.get(file_id) is None:
                self.kept.pop(file_id, None)


@dataclass
class FakePlaces:
    last: dict[int, str] = field(default_factory=dict)

    async def set_last_location(self, user_id: int, location: str) -> None:
        self.last[user_id] = location

    async def clear_location(self, user_id: int) -> bool:
        return self.last.pop(user_id, None) is not None


@dataclass
class World:
    tickets: FakeTickets = field(default_factory=FakeTickets)
    photos: FakePhotos = field(default_factory=FakePhotos)
    places: FakePlaces = field(default_factory=FakePlaces)
    relay: Wakes = field(default_factory=Wakes)
    catalogue: CatalogueHolder = field(default_factory=lambda: CatalogueHolder(None))

    def wizard(self) -> TicketWizard:
        return TicketWizard(
            self.catalogue, self.tickets, self.photos, self.places, LIMITS, lambda: NOW, self.relay
        )


def full_draft() -> TicketDraft:
    return TicketDraft(
        category="printers.jam",
        description="Принтер зажевал бумагу",
        location="каб. 305",
        photos=[PHOTO],
        started_at=NOW,
    )


def test_a_description_is_taken_trimmed_within_the_limits() -> None:
    wizard, draft = World().wizard(), TicketDraft()
    assert wizard.describe(draft, "abc") == Problem("wizard-description-too-short", {"min": 5})
    assert wizard.describe(draft, "x" * 51) == Problem(
        "wizard-description-too-long", {"length": 51, "max": 50}
    )
    assert draft.description is None
    assert wizard.describe(draft, "  Не печатает  ") is None
    assert draft.description == "Не печатает"


def test_a_place_is_tidied_and_kept_within_its_limit() -> None:
    wizard, draft = World().wizard(), TicketDraft()
    assert wizard.locate(draft, "   ") == Problem("wizard-location-text-only")
    assert wizard.locate(draft, "к" * 21) == Problem("wizard-location-too-long", {"max": 20})
    assert wizard.locate(draft, " каб.   305 ") is None
    assert draft.location == "каб. 305"


async def test_send_stores_one_ticket_per_draft_with_its_event_photos_and_place() -> None:
    world, maria = World(), employee()
    wizard, draft = world.wizard(), full_draft()
    ticket, created = await wizard.submit(maria, draft, "ru")
    again, created_again = await wizard.submit(maria, draft, "ru")

    assert (created, created_again, again.id) == (True, False, ticket.id)
    assert list(world.tickets.stored) == [ticket.id]
    assert ticket.category.title == "Замятие бумаги"
    assert ticket.requester.email == "maria.ivanova@example.com"
    assert [a.filename for a in ticket.attachments] == ["photo-1.jpg"]
    [event] = world.tickets.events
    assert (event.ticket_id, event.reference, event.description) == (
        ticket.id,
        ticket.reference,
        "Принтер зажевал бумагу",
    )
    assert world.photos.kept == {PHOTO.file_id: ticket.id}
    assert world.places.last == {maria.telegram_user_id: "каб. 305"}
    # The relay is woken by `announce`, once the employee was told.
    assert world.relay.count == 0
    wizard.announce()
    assert world.relay.count == 1


async def test_a_category_gone_from_the_catalogue_stores_nothing() -> None:
    world = World()
    draft = full_draft()
    draft.category = "printers.fax"
    with pytest.raises(CategoryGoneError):
        await world.wizard().submit(employee(), draft, "ru")
    assert world.tickets.stored == {}
    assert world.photos.kept == {PHOTO.file_id: None}


async def test_a_dropped_draft_takes_its_photos_but_not_a_sent_tickets() -> None:
    world = World()
    wizard, draft = world.wizard(), full_draft()
    await wizard.drop(draft)
    assert world.photos.kept == {}

    world = World()
    wizard = world.wizard()
    ticket, _ = await wizard.submit(employee(), draft, "ru")
    await wizard.drop(draft)
    assert world.photos.kept == {PHOTO.file_id: ticket.id}


async def test_only_the_author_hears_that_a_draft_was_sent_already() -> None:
    world = World()
    wizard, draft = world.wizard(), full_draft()
    ticket, _ = await wizard.submit(employee(1001), draft, "ru")
    assert await wizard.sent_before(draft.draft_id, 1001) == ticket
    assert await wizard.sent_before(draft.draft_id, 2002) is None
    assert await wizard.sent_before("another", 1001) is None


async def test_clearing_photos_and_forgetting_the_place() -> None:
    world = World(places=FakePlaces({1001: "каб. 305"}))
    wizard, draft = world.wizard(), full_draft()
    await wizard.clear_photos(draft)
    await wizard.forget_place(1001)
    assert (draft.photos, world.photos.kept, world.places.last) == ([], {}, {})
