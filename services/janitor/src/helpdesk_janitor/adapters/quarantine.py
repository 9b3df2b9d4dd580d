"""Expired mail in the inbox's quarantine collection.

The inbox owns `inbox_quarantine`: it writes unmatched mail there and reads it back for
operators. Deleting old entries is still the janitor's job, because DESIGN.md gives the janitor
all stale data and keeps every retention rule (and its dry run, lease and report) in one place;
the inbox needs no timer of its own. The janitor touches only documents whose time field
(`JANITOR_QUARANTINE_TIME_FIELD`, `quarantined_at` by default) is older than the limit, never
reads their contents, and deletes by `_id` with the age condition repeated in the delete.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from helpdesk_runtime.mongo import Document, by_ids
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase


@dataclass(frozen=True, slots=True)
class QuarantinedMail:
    raw_id: Any
    bytes: int


class QuarantineStore:
    def __init__(self, db: AsyncDatabase[Document], collection: str, time_field: str) -> None:
        self.collection: AsyncCollection[Document] = db[collection]
        self.time_field = time_field

    async def expired_pages(
        self, before: datetime, size: int
    ) -> AsyncIterator[list[QuarantinedMail]]:
        """Mail quarantined before `before`, with its stored size (the raw mail is not loaded)."""
        cursor = await self.collection.aggregate(
            [
                {"$match": {self.time_field: {"$lt": before}}},
                {"$project": {"_id": 1, "bytes": {"$bsonSize": "$$ROOT"}}},
            ],
            batchSize=size,
        )
        page: list[QuarantinedMail] = []
        async for doc in cursor:
            page.append(QuarantinedMail(doc["_id"], int(doc.get("bytes") or 0)))
            if len(page) >= size:
                yield page
                page = []
        if page:
            yield page

    async def delete(
        self, mails: Sequence[QuarantinedMail], before: datetime
    ) -> list[QuarantinedMail]:
        """Delete these mails if still expired; returns the ones that are gone."""
        ids = [m.raw_id for m in mails]
        result = await self.collection.delete_many(
            {**by_ids(ids), self.time_field: {"$lt": before}}
        )
        if result.deleted_count == len(mails):
            return list(mails)
        remaining = {d["_id"] async for d in self.collection.find(by_ids(ids), {"_id": 1})}
        return [m for m in mails if m.raw_id not in remaining]
