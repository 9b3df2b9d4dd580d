"""`itsm_links`: one document per ticket the inbox knows, and the status events it caused.

Each document holds what correlation needs (reference, the Message-IDs the mailer sent, linked
InfraManager numbers), the last announced status and the mails already applied (`sources`).
A status change and its TicketStatusChanged event are written in one update (outbox pattern),
guarded by the status it replaces, so a re-read mail can never announce twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from helpdesk_contracts.ticket.v1 import TicketStatusChanged
from helpdesk_runtime.mongo import Document
from helpdesk_runtime.optimistic import CHANGED, Changed, optimistic_update
from helpdesk_runtime.outbox import outbox_entry
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from helpdesk_inbox.changes import LinkState, Verdict, plan
from helpdesk_inbox.correlate import LinkedTicket, Lookups
from helpdesk_inbox.errors import InboxError

COLLECTION = "itsm_links"
SOURCE_FIELD = "source"
"""Added to each outbox entry: which mail (mailbox/UIDL) caused it, for DELE confirmation."""


class LinkConflictError(InboxError):
    """The ticket's document vanished under a status update (the poll starts over later)."""


def _ticket(doc: Document | None) -> LinkedTicket | None:
    if doc is None:
        return None
    return LinkedTicket(ticket_id=str(doc["_id"]), reference=str(doc["reference"]))


def entry_for(message: Any, source: str) -> Document:
    """An outbox entry that remembers the mail it came from."""
    return {**outbox_entry(message), SOURCE_FIELD: source}


class LinkStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection: AsyncCollection[Document] = db[COLLECTION]

    async def create_indexes(self) -> None:
        await self.collection.create_index([("reference", ASCENDING)], unique=True)
        await self.collection.create_index([("email_message_ids", ASCENDING)])
        await self.collection.create_index([("itsm_numbers", ASCENDING)])
        await self.collection.create_index([(f"outbox.{SOURCE_FIELD}", ASCENDING)], sparse=True)

    async def learn_email(
        self, *, ticket_id: str, reference: str, email_message_id: str, now: datetime
    ) -> None:
        """Remember a ticket email the mailer sent (idempotent: a redelivery changes nothing)."""
        await self.collection.update_one(
            {"_id": ticket_id},
            {
                "$set": {"reference": reference, "updated_at": now},
                "$addToSet": {"email_message_ids": email_message_id.strip()},
                "$setOnInsert": {"created_at": now},
            },
            upsert=True,
        )

    async def lookups(
        self, *, token: str | None, reply_ids: Sequence[str], number: str | None
    ) -> Lookups:
        projection = {"reference": 1}
        by_token = by_message_id = by_number = None
        if token:
            by_token = await self.collection.find_one({"reference": token}, projection)
        if reply_ids:
            by_message_id = await self.collection.find_one(
                {"email_message_ids": {"$in": list(reply_ids)}}, projection
            )
        if number:
            by_number = await self.collection.find_one({"itsm_numbers": number}, projection)
        return Lookups(_ticket(by_token), _ticket(by_message_id), _ticket(by_number))

    async def link_number(self, ticket_id: str, number: str, now: datetime) -> None:
        await self.collection.update_one(
            {"_id": ticket_id},
            {"$addToSet": {"itsm_numbers": number}, "$set": {"updated_at": now}},
        )

    async def record_status(
        self,
        event: TicketStatusChanged,
        *,
        key: str,
        source: str,
        link_number: str | None,
        now: datetime,
    ) -> Verdict:
        """Apply a status read from mail `source`; the event is queued only for a real change."""

        async def step() -> Verdict | Changed:
            doc = await self.collection.find_one(
                {"_id": event.ticket_id}, {"status_key": 1, "status_changed_at": 1, "sources": 1}
            )
            if doc is None:
                raise LinkConflictError(f"ticket {event.ticket_id} vanished from {COLLECTION}")
            state = LinkState(
                status_key=doc.get("status_key"),
                changed_at=doc.get("status_changed_at"),
                sources=frozenset(doc.get("sources") or ()),
            )
            verdict = plan(state, key=key, changed_at=event.changed_at, source=source)
            if verdict is Verdict.SAME_MAIL:
                return verdict
            add: Document = {"sources": source}
            if link_number:
                add["itsm_numbers"] = link_number
            update: Document = {"$addToSet": add, "$set": {"updated_at": now}}
            if verdict is Verdict.ANNOUNCE:
                update["$set"] |= {
                    "status_key": key,
                    "status": event.status.value,
                    "raw_status": event.raw_status,
                    "status_changed_at": event.changed_at,
                }
                update["$push"] = {"outbox": entry_for(event, source)}
            # Guarded by what was read: a concurrent change makes this match nothing, and the
            # step reads again instead of announcing over it.
            result = await self.collection.update_one(
                {
                    "_id": event.ticket_id,
                    "sources": {"$ne": source},
                    "status_key": state.status_key,
                },
                update,
            )
            return verdict if result.modified_count else CHANGED

        return await optimistic_update(step, what=f"the status of ticket {event.ticket_id}")

    async def has_pending(self, source: str) -> bool:
        """Whether an event caused by this mail still waits in the outbox (not yet confirmed)."""
        found = await self.collection.find_one({f"outbox.{SOURCE_FIELD}": source}, {"_id": 1})
        return found is not None
