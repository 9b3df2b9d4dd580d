"""`inbox_quarantine`: mail the inbox could not turn into a status, kept with its raw bytes.

One document per mail (mailbox + UIDL, unique). The first time a mail is quarantined its
InboxMessageUnmatched event goes into the same document's outbox; quarantining it again (a mail
re-read after a crash, a requeue that still finds no match) updates the reason, and reports
nothing twice. The janitor deletes old documents by `quarantined_at`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
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

    async def put(
        self,
        *,
        mailbox: str,
        uidl: str,
        raw: bytes,
        raw_size: int | None = None,
        headers_only: bool,
        subject: str,
        sender: str,
        message_id: str | None,
        received_at: datetime | None,
        reason: UnmatchedReason,
        detail: str,
        ticket_id: str | None,
        source: str,
        now: datetime,
    ) -> Quarantined:
        new_id = ObjectId()
        size = raw_size if raw_size is not None else len(raw)
        # Every field is bounded, so the document stays far below MongoDB's 16 MB limit: one
        # mail whose record could not be written would stop every poll at that mail.
        subject, sender = subject[:MAX_FIELD_CHARS], sender[:MAX_FIELD_CHARS]
        message_id = message_id[:MAX_FIELD_CHARS] if message_id else None
        detail = detail[:2000]
        if len(raw) > MAX_KEPT_BYTES:
            raw = raw[:MAX_KEPT_BYTES]
        event = InboxMessageUnmatched(
            quarantine_id=str(new_id),
            mailbox=mailbox[:320],
            uidl=uidl[:128],
            subject=subject[:998] or None,
            sender=sender[:998] or None,
            reason=reason,
            detail=detail[:2000] or None,
            received_at=received_at,
        )
        result = await self.collection.update_one(
            {"mailbox": mailbox, "uidl": uidl},
            {
                "$setOnInsert": {
                    "_id": new_id,
                    "raw": Binary(raw),
                    "raw_size": size,
                    "truncated": size > len(raw),
                    "headers_only": headers_only,
                    "subject": subject,
                    "sender": sender,
                    "message_id": message_id,
                    "received_at": received_at,
                    "quarantined_at": now,
                    "outbox": [entry_for(event, source)],
                },
                "$set": {
                    "state": OPEN,
                    "reason": reason.value,
                    "detail": detail,
                    "ticket_id": ticket_id,
                    "updated_at": now,
                },
            },
            upsert=True,
        )
        if result.upserted_id is not None:
            return Quarantined(str(new_id), new=True)
        doc = await self.collection.find_one({"mailbox": mailbox, "uidl": uidl}, {"_id": 1})
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
