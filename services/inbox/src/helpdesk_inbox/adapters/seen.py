"""`inbox_seen`: per mailbox, the UIDLs already dealt with, the deferred ones and DELE work.

One document per mailbox: a POP3 session lists every UIDL anyway, and comparing that listing
with one array costs one read, however many old messages the mailbox holds. UIDLs of messages
gone from the server are pruned, so the array stays as large as the mailbox (a 16 MB document
holds several hundred thousand UIDLs).

- `uidls`: done; never retrieved again.
- `deferred`: [{uidl, since}] read but not matched yet (see correlate.py); retried each poll.
- `dele_pending`: done, to be deleted from the server once their events are confirmed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from helpdesk_runtime.mongo import Document
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

COLLECTION = "inbox_seen"


@dataclass(slots=True)
class SeenState:
    exists: bool = False
    done: set[str] = field(default_factory=set)
    deferred: dict[str, datetime] = field(default_factory=dict)
    dele_pending: set[str] = field(default_factory=set)


class SeenStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection: AsyncCollection[Document] = db[COLLECTION]

    async def load(self, mailbox: str) -> SeenState:
        doc = await self.collection.find_one({"_id": mailbox})
        if doc is None:
            return SeenState()
        return SeenState(
            exists=True,
            done=set(doc.get("uidls") or ()),
            deferred={d["uidl"]: d["since"] for d in doc.get("deferred") or () if "uidl" in d},
            dele_pending=set(doc.get("dele_pending") or ()),
        )

    async def baseline(self, mailbox: str, uidls: Iterable[str], now: datetime) -> bool:
        """Take everything in the mailbox now as done, unread: only on a mailbox never polled.

        Returns False if the mailbox has a document already (nothing is changed then).
        """
        try:
            await self.collection.insert_one(
                {
                    "_id": mailbox,
                    "uidls": sorted(set(uidls)),
                    "deferred": [],
                    "dele_pending": [],
                    "baseline_at": now,
                    "updated_at": now,
                }
            )
        except DuplicateKeyError:
            return False
        return True

    async def mark_done(
        self, mailbox: str, uidls: list[str], *, delete: list[str], now: datetime
    ) -> None:
        if not uidls:
            return
        await self.collection.update_one(
            {"_id": mailbox},
            {
                "$addToSet": {"uidls": {"$each": uidls}, "dele_pending": {"$each": delete}},
                "$pull": {"deferred": {"uidl": {"$in": uidls}}},
                "$set": {"updated_at": now},
            },
            upsert=True,
        )

    async def mark_deferred(self, mailbox: str, uidls: list[str], now: datetime) -> None:
        if not uidls:
            return
        await self.collection.update_one(
            {"_id": mailbox},
            {
                "$push": {"deferred": {"$each": [{"uidl": u, "since": now} for u in uidls]}},
                "$set": {"updated_at": now},
            },
            upsert=True,
        )

    async def forget(self, mailbox: str, uidls: list[str], now: datetime) -> None:
        """Drop UIDLs no longer on the server (deleted by us or by anyone else)."""
        if not uidls:
            return
        await self.collection.update_one(
            {"_id": mailbox},
            {
                "$pullAll": {"uidls": uidls, "dele_pending": uidls},
                "$pull": {"deferred": {"uidl": {"$in": uidls}}},
                "$set": {"updated_at": now},
            },
        )
