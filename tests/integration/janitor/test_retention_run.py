"""A janitor run over tickets and photos in every state and age, driven like an operator does:
RunJanitor on `helpdesk.admin`, answers heard on `helpdesk.events`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId
from gridfs import AsyncGridFSBucket
from helpdesk_contracts.admin.v1 import AdminCommandCompleted, Outcome, RunJanitor
from helpdesk_contracts.base import Message
from helpdesk_contracts.janitor.v1 import AttachmentsPurged, JanitorRunCompleted, PurgeCount
from helpdesk_contracts.ticket.v1 import TicketStatus
from helpdesk_janitor.app import create_app
from pymongo.asynchronous.database import AsyncDatabase

from tests.integration.janitor import world
from tests.integration.janitor.conftest import Bus, BusFactory, Clock, SettingsFactory
from tests.support.wait import eventually

pytestmark = pytest.mark.integration

Document = dict[str, Any]
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


class Seeded:
    """What was put in, and what must be left after a run."""

    def __init__(self) -> None:
        self.doomed: dict[str, list[ObjectId]] = {
            "closed_tickets": [],
            "max_age": [],
            "abandoned": [],
        }
        self.kept: list[ObjectId] = []
        self.sizes: dict[ObjectId, int] = {}
        self.in_progress_upload: ObjectId | None = None
        self.crash_orphan: ObjectId | None = None
        self.old_mail: ObjectId | None = None
        self.young_mail: ObjectId | None = None

    def purged_photos(self, rule: str) -> PurgeCount:
        ids = self.doomed[rule]
        return PurgeCount(items=len(ids), bytes=sum(self.sizes[i] for i in ids))


async def seed(db: AsyncDatabase[Document], bus: Bus, clock: Clock) -> Seeded:
    now = clock.now
    s = Seeded()
    size = iter(range(150, 1000, 37))  # every photo a different size, so bytes add up exactly

    async def photo(ticket: int | None, age: timedelta, fate: str) -> ObjectId:
        n = next(size)
        file_id = await world.upload_photo(db, ticket=ticket, created_at=now - age, size=n)
        s.sizes[file_id] = n
        (s.kept if fate == "kept" else s.doomed[fate]).append(file_id)
        return file_id

    events: list[Message] = []

    def ticket(
        n: int, *, age: timedelta, emailed: bool = True, files: list[str] | None = None
    ) -> None:
        events.append(world.submitted(n, now - age, files))
        if emailed:
            events.append(world.emailed(n, now - age + HOUR))

    # 1: closed 31 days ago, two photos -> closed_tickets
    ticket(1, age=40 * DAY)
    events.append(world.status(1, TicketStatus.CLOSED, now - 31 * DAY))
    await photo(1, 40 * DAY, "closed_tickets")
    await photo(1, 40 * DAY, "closed_tickets")
    # 2: resolved 10 days ago -> kept (not due)
    ticket(2, age=40 * DAY)
    events.append(world.status(2, TicketStatus.RESOLVED, now - 10 * DAY))
    await photo(2, 40 * DAY, "kept")
    # 3: rated 31 days ago -> closed_tickets
    ticket(3, age=40 * DAY)
    events.append(world.status(3, TicketStatus.RESOLVED, now - 33 * DAY))
    events.append(world.rated(3, now - 31 * DAY))
    await photo(3, 40 * DAY, "closed_tickets")
    # 4: in progress for 200 days -> max_age (and its read-model record is forgotten)
    ticket(4, age=200 * DAY)
    events.append(world.status(4, TicketStatus.IN_PROGRESS, now - 190 * DAY))
    await photo(4, 200 * DAY, "max_age")
    # 5: its email never left, 400 days on -> kept
    ticket(5, age=400 * DAY, emailed=False)
    await photo(5, 400 * DAY, "kept")
    # 6: fresh and registered -> kept
    ticket(6, age=5 * DAY)
    events.append(world.status(6, TicketStatus.REGISTERED, now - 4 * DAY))
    await photo(6, 5 * DAY, "kept")
    # 7: a photo without a ticket id in its metadata, but listed by its closed ticket
    listed = await photo(None, 40 * DAY, "closed_tickets")
    ticket(7, age=40 * DAY, files=[str(listed)])
    events.append(world.status(7, TicketStatus.CLOSED, now - 35 * DAY))
    # abandoned wizards: one old enough, one not
    await photo(None, 49 * HOUR, "abandoned")
    await photo(None, 1 * HOUR, "kept")
    # a ticket the janitor never heard of -> kept, however old
    await photo(99, 400 * DAY, "kept")

    # A crash between deleting a file document and its chunks, three hours ago; and an upload
    # that is writing chunks right now.
    s.crash_orphan = await world.leave_orphan_chunks(db, written_at=now - 3 * HOUR)
    s.in_progress_upload = await world.leave_orphan_chunks(
        db, written_at=now - timedelta(minutes=5)
    )
    s.old_mail = await world.quarantine_mail(db, at=now - 15 * DAY)
    s.young_mail = await world.quarantine_mail(db, at=now - 13 * DAY)

    for event in events:
        await bus.publish(event)

    # The lifecycle events reach the janitor through four queues in no particular order.
    async def all_recorded() -> bool:
        tickets = db.janitor_tickets
        return (
            await tickets.count_documents({"submitted_at": {"$ne": None}}) == 7
            and await tickets.count_documents({"emailed_at": {"$ne": None}}) == 6
            and await tickets.count_documents({"status": {"$ne": None}}) == 6
            and await tickets.count_documents({"rated_at": {"$ne": None}}) == 1
        )

    await eventually(all_recorded, what="the lifecycle events to be recorded")
    return s


async def storage(
    db: AsyncDatabase[Document],
) -> tuple[set[ObjectId], set[ObjectId], set[ObjectId]]:
    mails = {d["_id"] async for d in db.inbox_quarantine.find({}, {"_id": 1})}
    return await world.file_ids(db), await world.chunk_owners(db), mails


def heard(bus: Bus, command: RunJanitor) -> tuple[JanitorRunCompleted, list[AttachmentsPurged]]:
    about = bus.all(Message, command.message_id)
    completed = [m for m in about if isinstance(m, JanitorRunCompleted)]
    assert len(completed) == 1, about
    assert [m for m in about if isinstance(m, AdminCommandCompleted)], about
    return completed[0], [m for m in about if isinstance(m, AttachmentsPurged)]


async def test_dry_run_real_run_and_a_second_run(
    janitor_settings: SettingsFactory,
    bus: BusFactory,
    mongo_db: AsyncDatabase[Document],
    clock: Clock,
) -> None:
    app = create_app(janitor_settings(batch_size=4), clock=clock)
    async with app:
        b = await bus()
        s = await seed(mongo_db, b, clock)
        before = await storage(mongo_db)

        # A dry run reports and deletes nothing.
        dry = RunJanitor(requested_by="ops:ivanov", dry_run=True)
        dry_answer = await b.command(dry)
        assert dry_answer.outcome is Outcome.DONE
        assert dry_answer.service == "janitor"
        assert dry_answer.command == "admin.run_janitor.v1"
        dry_completed, dry_purged = heard(b, dry)
        assert dry_completed.dry_run
        assert dry_purged == []
        assert await storage(mongo_db) == before

        # What it reports is exactly what must go.
        expected = {rule: s.purged_photos(rule) for rule in s.doomed}
        assert {k: dry_completed.purged[k] for k in expected} == expected
        assert dry_completed.purged["orphan_chunks"] == PurgeCount(
            items=3, bytes=3 * world.CHUNK_SIZE
        )
        assert dry_completed.purged["quarantine"].items == 1
        assert dry_completed.purged["quarantine"].bytes > 300
        assert dry_answer.result["kept"] == {"not_emailed": 1, "unknown_ticket": 1, "not_due": 3}
        assert dry_answer.result["forgotten_tickets"] == 1

        # The real run deletes exactly that.
        real = RunJanitor(requested_by="ops:ivanov")
        real_answer = await b.command(real)
        assert real_answer.outcome is Outcome.DONE
        completed, purged = heard(b, real)
        assert not completed.dry_run
        assert completed.purged == dry_completed.purged
        assert real_answer.result["purged"] == dry_answer.result["purged"]
        assert [sorted(p.references) for p in purged] == [
            [world.reference(n) for n in (1, 3, 4, 7)]
        ]
        assert purged[0].files == 5
        assert purged[0].run_id == completed.run_id
        assert purged[0].bytes == sum(
            s.purged_photos(r).bytes for r in ("closed_tickets", "max_age")
        )

        files, chunk_owners, mails = await storage(mongo_db)
        assert files == set(s.kept)
        assert chunk_owners == set(s.kept) | {s.in_progress_upload}
        assert mails == {s.young_mail}
        # What stayed is whole.
        gridfs = AsyncGridFSBucket(mongo_db, world.BUCKET)
        for file_id in s.kept:
            body = await (await gridfs.open_download_stream(file_id)).read()
            assert len(body) == s.sizes[file_id]

        # Running again changes nothing and reports nothing.
        again = RunJanitor(requested_by="ops:ivanov")
        await b.command(again)
        completed_again, purged_again = heard(b, again)
        assert all(c == PurgeCount(items=0, bytes=0) for c in completed_again.purged.values())
        assert purged_again == []
        assert await storage(mongo_db) == (files, chunk_owners, mails)
