"""`tickets`: every ticket sent from Telegram, its status history, rating and pending events.

Events the ticket causes (TicketSubmitted, TicketRated) are pushed into the same document's
`outbox` array in the same write as the change (see helpdesk_runtime.outbox), so there
is never a ticket without its event or an event without its ticket. Lifecycle events are applied
with a version check, and each applied event id is remembered, so a redelivery changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bson import ObjectId
from helpdesk_contracts.ticket.v1 import TicketRated, TicketSubmitted
from helpdesk_gateway.domain.tickets import RATABLE, AppliedEvent, Change, TicketRecord
from helpdesk_runtime.mongo import by_ids
from helpdesk_runtime.outbox import OUTBOX_FIELD, outbox_entry
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

Document = dict[str, Any]
COLLECTION = "tickets"
REFERENCE_ATTEMPTS = 8

ERASED_USER_ID = 1
"""Stands for the Telegram account of an erased requester (no person has id 1)."""
ERASED_EMAIL = "erased@erased.invalid"
ERASURE: Document = {
    "user_id": ERASED_USER_ID,
    "chat_id": 0,
    "requester.telegram_user_id": ERASED_USER_ID,
    "requester.telegram_username": None,
    "requester.email": ERASED_EMAIL,
    "requester.display_name": "",
    "requester.phone": None,
    "requester.title": None,
    "description": "",
    "location": None,
    "rating.comment": None,
    "thread.subject": None,  # InfraManager's subject echoes the description's first words
}
"""What an erased ticket keeps: category, department, times, statuses, rating, references, so
the manager's figures stay; InfraManager keeps its own copy of the email."""

ForgetFiles = Callable[[list[str]], Awaitable[int]]
"""Deletes the conversation's files (comments' attachments, both ways) of the given tickets."""


async def _no_files(ticket_ids: list[str]) -> int:
    return 0


def _record(doc: Document) -> TicketRecord:
    return TicketRecord.model_validate({**doc, "id": str(doc["_id"])})


def _object_id(ticket_id: str) -> ObjectId | None:
    return ObjectId(ticket_id) if ObjectId.is_valid(ticket_id) else None


class TicketRepository:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("reference", unique=True)
        await self.collection.create_index("draft_id", unique=True)
        await self.collection.create_index([("user_id", ASCENDING), ("submitted_at", DESCENDING)])
        await self.collection.create_index("submitted_at")
        await self.collection.create_index("erase_after", sparse=True)
        await self.collection.create_index(
            [("status", ASCENDING), ("rating.requested_at", ASCENDING)]
        )

    async def submit(
        self,
        record: Callable[[str, str], TicketRecord],
        event: Callable[[TicketRecord], TicketSubmitted],
        new_reference: Callable[[], str],
    ) -> tuple[TicketRecord, bool]:
        """Store a ticket with its TicketSubmitted in the outbox; (ticket, created).

        `record(ticket_id, reference)` builds the ticket. The draft id is unique: a second Send
        of the same draft returns the ticket the first one stored.
        """
        for _ in range(REFERENCE_ATTEMPTS):
            ticket_id = ObjectId()
            ticket = record(str(ticket_id), new_reference())
            doc = ticket.model_dump(exclude={"id"})
            doc["_id"] = ticket_id
            doc[OUTBOX_FIELD] = [outbox_entry(event(ticket))]
            try:
                await self.collection.insert_one(doc)
            except DuplicateKeyError:
                existing = await self.by_draft(ticket.draft_id)
                if existing is not None:
                    return existing, False
                continue  # the reference was taken: draw another
            return ticket, True
        raise RuntimeError("could not find a free ticket reference")

    # -- personal data ----------------------------------------------------------------------

    async def schedule_erasure(self, user_id: int, *, at: datetime) -> int:
        """Mark the person's tickets to be erased at `at` (an earlier mark stays)."""
        result = await self.collection.update_many(
            {"user_id": user_id, "erase_after": {"$exists": False}, "erased_at": None},
            {"$set": {"erase_after": at}},
        )
        return result.modified_count

    async def erase_due(
        self, now: datetime, *, forget_files: ForgetFiles = _no_files, limit: int = 500
    ) -> int:
        """Erase the personal data of tickets whose grace period is over.

        A ticket whose events are still in its outbox waits: they carry the data to neighbours.
        Status comments (InfraManager's words to the person), the employee's comments and
        requests, and the files of the conversation go too (the files first: a crash between
        leaves the ticket due, so the next pass finishes it).
        """
        due = {"erase_after": {"$lte": now}, "outbox.0": {"$exists": False}}
        erased = 0
        fields = {"history": 1, "replies": 1, "version": 1}
        async for doc in self.collection.find(due, fields).limit(limit):
            await forget_files([str(doc["_id"])])
            history = [{**entry, "comment": None} for entry in doc.get("history") or []]
            replies = [{**reply, "text": ""} for reply in doc.get("replies") or []]
            # The version guard: a status applied meanwhile is not overwritten (next pass).
            result = await self.collection.update_one(
                {"_id": doc["_id"], "erase_after": {"$lte": now}, "version": doc.get("version", 0)},
                {
                    "$set": {**ERASURE, "history": history, "replies": replies, "erased_at": now},
                    "$unset": {"erase_after": ""},
                },
            )
            erased += result.modified_count
        return erased

    async def purge_older_than(
        self, cutoff: datetime, *, forget_files: ForgetFiles = _no_files
    ) -> int:
        """Delete tickets submitted before `cutoff` (none with events still to relay), and the
        files of their conversations before them."""
        old = {"submitted_at": {"$lt": cutoff}, "outbox.0": {"$exists": False}}
        ids = [doc["_id"] async for doc in self.collection.find(old, {"_id": 1})]
        if not ids:
            return 0
        await forget_files([str(i) for i in ids])
        result = await self.collection.delete_many({**old, **by_ids(ids)})
        return result.deleted_count

    async def get(self, ticket_id: str) -> TicketRecord | None:
        oid = _object_id(ticket_id)
        doc = await self.collection.find_one({"_id": oid}) if oid else None
        return _record(doc) if doc else None

    async def by_draft(self, draft_id: str) -> TicketRecord | None:
        doc = await self.collection.find_one({"draft_id": draft_id})
        return _record(doc) if doc else None

    async def of_user(self, ticket_id: str, user_id: int) -> TicketRecord | None:
        oid = _object_id(ticket_id)
        doc = await self.collection.find_one({"_id": oid, "user_id": user_id}) if oid else None
        return _record(doc) if doc else None

    async def recent(self, user_id: int, limit: int) -> list[TicketRecord]:
        cursor = (
            self.collection.find({"user_id": user_id}, {OUTBOX_FIELD: 0})
            .sort("submitted_at", DESCENDING)
            .limit(limit)
        )
        return [_record(doc) async for doc in cursor]

    async def apply(self, ticket: TicketRecord, message_id: str, change: Change) -> bool:
        """Apply a change made from this snapshot; False if the ticket moved on meanwhile."""
        update: Document = {
            "$inc": {"version": 1},
            "$push": {
                "applied_events": AppliedEvent(
                    id=message_id, notify=change.notify, ask_rating=change.ask_rating
                ).model_dump()
            },
        }
        if change.set_fields:
            update["$set"] = dict(change.set_fields)
        if change.history is not None:
            update["$push"]["history"] = change.history.model_dump()
        result = await self.collection.update_one(
            {
                "_id": ObjectId(ticket.id),
                "version": ticket.version,
                "applied_events.id": {"$ne": message_id},
            },
            update,
        )
        return result.modified_count == 1

    async def rate(self, ticket_id: str, user_id: int, stars: int, now: datetime) -> bool:
        """Record the stars once; False when the ticket was already rated."""
        result = await self.collection.update_one(
            {
                "_id": ObjectId(ticket_id),
                "user_id": user_id,
                "status": {"$in": [s.value for s in RATABLE]},
                "rating.value": None,
            },
            {"$set": {"rating.value": stars, "rating.rated_at": now}},
        )
        return result.modified_count == 1

    async def publish_rating(
        self, ticket: TicketRecord, comment: str | None, now: datetime
    ) -> bool:
        """Queue TicketRated (once) with the optional comment; False if already published."""
        if ticket.rating.value is None:
            return False
        event = TicketRated(
            ticket_id=ticket.id,
            reference=ticket.reference,
            telegram_user_id=ticket.user_id,
            rating=ticket.rating.value,
            comment=comment,
            itsm_number=ticket.itsm_number,
            rated_at=ticket.rating.rated_at or now,
        )
        result = await self.collection.update_one(
            {
                "_id": ObjectId(ticket.id),
                "rating.value": {"$ne": None},
                "rating.published": {"$ne": True},
            },
            {
                "$set": {"rating.comment": comment, "rating.published": True},
                "$push": {OUTBOX_FIELD: outbox_entry(event)},
            },
        )
        return result.modified_count == 1

    async def due_reminders(self, asked_before: datetime, limit: int = 100) -> list[TicketRecord]:
        cursor = self.collection.find(
            {
                "status": {"$in": [s.value for s in RATABLE]},
                "rating.requested_at": {"$lte": asked_before},
                "rating.value": None,
                "rating.reminded_at": None,
            },
            {OUTBOX_FIELD: 0},
        ).limit(limit)
        return [_record(doc) async for doc in cursor]

    async def mark_reminded(self, ticket_id: str, now: datetime) -> bool:
        result = await self.collection.update_one(
            {"_id": ObjectId(ticket_id), "rating.value": None, "rating.reminded_at": None},
            {"$set": {"rating.reminded_at": now}},
        )
        return result.modified_count == 1

    async def unpublished_ratings(
        self, rated_before: datetime, limit: int = 100
    ) -> list[TicketRecord]:
        cursor = self.collection.find(
            {
                "rating.value": {"$ne": None},
                "rating.published": {"$ne": True},
                "rating.rated_at": {"$lte": rated_before},
            },
            {OUTBOX_FIELD: 0},
        ).limit(limit)
        return [_record(doc) async for doc in cursor]

    async def submitted_between(self, start: datetime, end: datetime) -> list[TicketRecord]:
        cursor = self.collection.find(
            {"submitted_at": {"$gte": start, "$lt": end}},
            {OUTBOX_FIELD: 0, "applied_events": 0},
        )
        return [_record(doc) async for doc in cursor]
