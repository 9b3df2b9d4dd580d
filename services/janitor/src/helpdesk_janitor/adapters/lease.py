"""One janitor run at a time across all replicas: a lease document in `janitor_lease`.

Taking the lease is one atomic upsert that matches only a free (expired) lease or our own; when
another run holds it, the upsert collides with the existing `_id` and fails. A run renews the
lease after every batch and deletes it at the end, so a crashed run blocks others only until the
lease expires.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from helpdesk_contracts.runtime.mongo import Document
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from helpdesk_janitor.errors import LeaseLostError
from helpdesk_janitor.report import LeaseHolder

COLLECTION = "janitor_lease"
LEASE_ID = "retention"


class Lease:
    def __init__(self, db: AsyncDatabase[Document], *, duration: timedelta) -> None:
        self.collection: AsyncCollection[Document] = db[COLLECTION]
        self.duration = duration

    async def acquire(self, owner: str, now: datetime) -> LeaseHolder | None:
        """Take the lease for `owner`; returns None on success, else who holds it."""
        try:
            await self.collection.update_one(
                {"_id": LEASE_ID, "$or": [{"expires_at": {"$lte": now}}, {"owner": owner}]},
                {"$set": {"owner": owner, "acquired_at": now, "expires_at": now + self.duration}},
                upsert=True,
            )
        except DuplicateKeyError:
            doc = await self.collection.find_one({"_id": LEASE_ID}) or {}
            return LeaseHolder(owner=str(doc.get("owner", "?")), expires_at=doc.get("expires_at"))
        return None

    async def renew(self, owner: str, now: datetime) -> None:
        """Extend our lease; raises LeaseLostError if it expired and someone else took it."""
        result = await self.collection.update_one(
            {"_id": LEASE_ID, "owner": owner}, {"$set": {"expires_at": now + self.duration}}
        )
        if result.matched_count == 0:
            raise LeaseLostError(f"the janitor lease of {owner} was taken over")

    async def release(self, owner: str) -> None:
        await self.collection.delete_one({"_id": LEASE_ID, "owner": owner})
