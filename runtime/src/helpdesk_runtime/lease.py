"""A named lease in MongoDB: one holder at a time across replicas, free again once it expires.

Taking the lease is one atomic upsert that matches only a free (expired) lease or our own; when
another owner holds it, the upsert collides with the existing `_id` and fails. The holder renews
it while it works and deletes it when done, so a crashed holder blocks the others only until the
lease expires. Used for janitor runs and for polling the inbox mailbox.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import uuid4

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from helpdesk_runtime.mongo import Document


class LeaseLostError(Exception):
    """Our lease expired and another owner took it: stop the work it guards at once."""


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    """Who holds a lease we could not take, and until when."""

    owner: str
    expires_at: datetime | None


def instance_name(unique: bool = False) -> str:
    """Names this process in a lease (host:pid), so an operator can see which replica holds it.

    `unique` adds a random part, for two holders in one process (tests, or two mailboxes).
    """
    name = f"{socket.gethostname()}:{os.getpid()}"
    return f"{name}:{uuid4().hex[:8]}" if unique else name


class Lease:
    def __init__(
        self, collection: AsyncCollection[Document], lease_id: str, *, duration: timedelta
    ) -> None:
        self.collection = collection
        self.lease_id = lease_id
        self.duration = duration

    async def acquire(self, owner: str, now: datetime) -> LeaseHolder | None:
        """Take (or extend) the lease for `owner`; None on success, else who holds it."""
        try:
            await self.collection.update_one(
                {"_id": self.lease_id, "$or": [{"expires_at": {"$lte": now}}, {"owner": owner}]},
                {"$set": {"owner": owner, "acquired_at": now, "expires_at": now + self.duration}},
                upsert=True,
            )
        except DuplicateKeyError:
            doc = await self.collection.find_one({"_id": self.lease_id}) or {}
            return LeaseHolder(owner=str(doc.get("owner", "?")), expires_at=doc.get("expires_at"))
        return None

    async def renew(self, owner: str, now: datetime) -> None:
        """Extend our lease; raises LeaseLostError if it expired and someone else took it."""
        result = await self.collection.update_one(
            {"_id": self.lease_id, "owner": owner}, {"$set": {"expires_at": now + self.duration}}
        )
        if result.matched_count == 0:
            raise LeaseLostError(f"the lease {self.lease_id!r} of {owner} was taken over")

    async def release(self, owner: str) -> None:
        await self.collection.delete_one({"_id": self.lease_id, "owner": owner})
