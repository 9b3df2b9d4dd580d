"""`janitor_tickets`: the janitor's own read model of ticket state, fed by lifecycle events.

The gateway owns `tickets`; reading it would couple the janitor to another service's schema.
Every update is idempotent (a redelivery changes nothing) and tolerates events arriving out of
order: the first email time wins (`$min`), the latest rating wins (`$max`), and a status change
older than the one recorded is ignored. Events of one ticket may be handled at the same time (each
queue has its own consumer), so every write is an upsert that survives losing the race to create
the record.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from helpdesk_contracts.ticket.v1 import (
    TicketEmailed,
    TicketRated,
    TicketStatus,
    TicketStatusChanged,
    TicketSubmitted,
)
from helpdesk_runtime.mongo import Document, by_ids
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from helpdesk_janitor.policy import TicketState

COLLECTION = "janitor_tickets"


class TicketStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection: AsyncCollection[Document] = db[COLLECTION]

    async def create_indexes(self) -> None:
        # Finds the ticket that lists a photo whose metadata carries no ticket id.
        await self.collection.create_index("file_ids")

    async def record_submitted(self, event: TicketSubmitted) -> None:
        update: dict[str, Any] = {
            "$set": {"reference": event.reference, "submitted_at": event.submitted_at}
        }
        if event.attachments:
            update["$addToSet"] = {"file_ids": {"$each": [a.file_id for a in event.attachments]}}
        await self._upsert({"_id": event.ticket_id}, update)

    async def record_emailed(self, event: TicketEmailed) -> None:
        await self._upsert(
            {"_id": event.ticket_id},
            {"$set": {"reference": event.reference}, "$min": {"emailed_at": event.sent_at}},
        )

    async def record_status(self, event: TicketStatusChanged) -> None:
        newer_or_first = {
            "_id": event.ticket_id,
            "$or": [{"status_at": None}, {"status_at": {"$lte": event.changed_at}}],
        }
        # An older status than the one recorded matches nothing, and is meant to change nothing.
        await self._upsert(
            newer_or_first,
            {
                "$set": {
                    "reference": event.reference,
                    "status": event.status.value,
                    "status_at": event.changed_at,
                }
            },
        )

    async def record_rated(self, event: TicketRated) -> None:
        await self._upsert(
            {"_id": event.ticket_id},
            {"$set": {"reference": event.reference}, "$max": {"rated_at": event.rated_at}},
        )

    async def _upsert(self, query: Document, update: Document) -> None:
        """Update the ticket's record, creating it if it is missing.

        The insert half of an upsert fails on the `_id` when the record exists but the query
        does not match it (a late status) or when another event created it a moment ago. The
        plain update that follows tells the two apart: it applies only if the query matches now.
        """
        try:
            await self.collection.update_one(query, update, upsert=True)
        except DuplicateKeyError:
            await self.collection.update_one(query, update)

    async def linked(self, ticket_ids: Iterable[str], file_ids: Iterable[str]) -> list[TicketState]:
        """Tickets with these ids, and tickets that list any of these photos."""
        query = {
            "$or": [
                by_ids(sorted(set(ticket_ids))),
                {"file_ids": {"$in": sorted(set(file_ids))}},
            ]
        }
        return [_state(doc) async for doc in self.collection.find(query)]

    async def forget(self, born_before: datetime, *, dry_run: bool) -> int:
        """Drop records of emailed tickets born before the cutoff; returns how many (would) go."""
        query = {
            "emailed_at": {"$ne": None},
            "$or": [
                {"submitted_at": {"$lt": born_before}},
                {"submitted_at": None, "emailed_at": {"$lt": born_before}},
            ],
        }
        if dry_run:
            return await self.collection.count_documents(query)
        result = await self.collection.delete_many(query)
        return result.deleted_count


def _status(value: Any) -> TicketStatus | None:
    if value is None:
        return None
    try:
        return TicketStatus(value)
    except ValueError:
        return TicketStatus.UNKNOWN


def _state(doc: Document) -> TicketState:
    return TicketState(
        ticket_id=str(doc["_id"]),
        reference=doc.get("reference"),
        submitted_at=doc.get("submitted_at"),
        emailed_at=doc.get("emailed_at"),
        status=_status(doc.get("status")),
        status_at=doc.get("status_at"),
        rated_at=doc.get("rated_at"),
        file_ids=frozenset(str(f) for f in doc.get("file_ids", ())),
    )
