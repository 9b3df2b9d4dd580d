"""`inbox_quarantine`: mail the inbox could not turn into a status, kept with its raw bytes.

One document per mail (mailbox + UIDL, unique). The first time a mail is quarantined its
InboxMessageUnmatched event goes into the same document's outbox; quarantining it again (a mail
re-read after a crash, a requeue that still finds no match) updates the reason, and reports
nothing twice. The janitor deletes old documents by `quarantined_at`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime

from bson import Binary, ObjectId
from helpdesk_contracts.inbox.v1 import InboxMessageUnmatched, UnmatchedReason
from helpdesk_runtime.mongo import Document
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from helpdesk_inbox.adapters.links import SOURCE_FIELD, entry_for

COLLECTION = "inbox_quarantine"
MAX_FIELD_CHARS = 998
MAX_KEPT_BYTES = 15 * 1024 * 1024
"""Raw bytes kept at most (the size limit of a mail read whole is capped to this too)."""
OPEN = "open"
RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Quarantined:
    quarantine_id: str
    new: bool  # False: it was quarantined before (and reported then)


@dataclass(frozen=True, slots=True)
class UnmatchedMail:
    """A mail to quarantine: what the inbox read of it and why it matched no ticket."""

    mailbox: str
    uidl: str
    raw: bytes
    """What is kept of the mail: all of it, or only its evidence (headers and the body's start)."""
    raw_size: int
    """The size of the whole mail."""
    headers_only: bool
    subject: str
    sender: str
    message_id: str | None
    received_at: datetime | None
    reason: UnmatchedReason
    detail: str
    ticket_id: str | None

    def bounded(self) -> UnmatchedMail:
        """The fields cut to their limits; the mailbox and UIDL (the record's key) stay whole."""
        # Every field is bounded, so the document stays far below MongoDB's 16 MB limit: one
        # mail whose record could not be written would stop every poll at that mail.
        return replace(
            self,
            raw=self.raw[:MAX_KEPT_BYTES],
            subject=self.subject[:MAX_FIELD_CHARS],
            sender=self.sender[:MAX_FIELD_CHARS],
            message_id=self.message_id[:MAX_FIELD_CHARS] if self.message_id else None,
            detail=self.detail[:2000],
        )


@dataclass(frozen=True, slots=True)
class QuarantinedMail:
    """An open quarantine entry, as `requeue-quarantine` reads it back."""

    quarantine_id: str
    mailbox: str
    uidl: str
    raw: bytes
    headers_only: bool
    reason: str
    quarantined_at: datetime | None = None


class QuarantineStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection: AsyncCollection[Document] = db[COLLECTION]

    async def create_indexes(self) -> None:
        await self.collection.create_index(
            [("mailbox", ASCENDING), ("uidl", ASCENDING)], unique=True
        )
        await self.collection.create_index([("state", ASCENDING), ("quarantined_at", ASCENDING)])
        await self.collection.create_index([("quarantined_at", ASCENDING)])
        await self.collection.create_index([(f"outbox.{SOURCE_FIELD}", ASCENDING)], sparse=True)

    async def put(self, mail: UnmatchedMail, *, source: str, now: datetime) -> Quarantined:
        """Record the mail; the first time, its InboxMessageUnmatched joins the record's outbox."""
        new_id = ObjectId()
        mail = mail.bounded()
        event = InboxMessageUnmatched(
            quarantine_id=str(new_id),
            mailbox=mail.mailbox[:320],
            uidl=mail.uidl[:128],
            subject=mail.subject[:998] or None,
            sender=mail.sender[:998] or None,
            reason=mail.reason,
            detail=mail.detail[:2000] or None,
            received_at=mail.received_at,
        )
        result = await self.collection.update_one(
            {"mailbox": mail.mailbox, "uidl": mail.uidl},
            {
                "$setOnInsert": {
                    "_id": new_id,
                    "raw": Binary(mail.raw),
                    "raw_size": mail.raw_size,
                    "truncated": mail.raw_size > len(mail.raw),
                    "headers_only": mail.headers_only,
                    "subject": mail.subject,
                    "sender": mail.sender,
                    "message_id": mail.message_id,
                    "received_at": mail.received_at,
                    "quarantined_at": now,
                    "outbox": [entry_for(event, source)],
                },
                "$set": {
                    "state": OPEN,
                    "reason": mail.reason.value,
                    "detail": mail.detail,
                    "ticket_id": mail.ticket_id,
                    "updated_at": now,
                },
            },
            upsert=True,
        )
        if result.upserted_id is not None:
            return Quarantined(str(new_id), new=True)
        doc = await self.collection.find_one(
            {"mailbox": mail.mailbox, "uidl": mail.uidl}, {"_id": 1}
        )
        return Quarantined(str(doc["_id"]) if doc else str(new_id), new=False)

    async def open_entries(self, limit: int) -> AsyncIterator[QuarantinedMail]:
        cursor = self.collection.find(
            {"state": OPEN},
            {
                "mailbox": 1,
                "uidl": 1,
                "raw": 1,
                "headers_only": 1,
                "reason": 1,
                "quarantined_at": 1,
            },
        ).sort("quarantined_at", ASCENDING)
        if limit > 0:
            cursor = cursor.limit(limit)
        async for doc in cursor:
            yield QuarantinedMail(
                quarantine_id=str(doc["_id"]),
                mailbox=str(doc["mailbox"]),
                uidl=str(doc["uidl"]),
                raw=bytes(doc.get("raw") or b""),
                headers_only=bool(doc.get("headers_only")),
                reason=str(doc.get("reason")),
                quarantined_at=doc.get("quarantined_at"),
            )

    async def entries(
        self, *, reason: str | None, include_resolved: bool, limit: int
    ) -> list[Document]:
        """Entries without their raw bytes, newest first (for `quarantine list`)."""
        query: Document = {} if include_resolved else {"state": OPEN}
        if reason:
            query["reason"] = reason
        cursor = self.collection.find(query, {"raw": 0, "outbox": 0}).sort(
            "quarantined_at", DESCENDING
        )
        if limit > 0:
            cursor = cursor.limit(limit)
        return [doc async for doc in cursor]

    async def get(self, quarantine_id: str) -> Document | None:
        if not ObjectId.is_valid(quarantine_id):
            return None
        return await self.collection.find_one({"_id": ObjectId(quarantine_id)}, {"outbox": 0})

    async def resolve(self, quarantine_id: str, *, ticket_id: str, now: datetime) -> None:
        await self.collection.update_one(
            {"_id": ObjectId(quarantine_id)},
            {"$set": {"state": RESOLVED, "ticket_id": ticket_id, "resolved_at": now}},
        )

    async def has_pending(self, source: str) -> bool:
        found = await self.collection.find_one({f"outbox.{SOURCE_FIELD}": source}, {"_id": 1})
        return found is not None
