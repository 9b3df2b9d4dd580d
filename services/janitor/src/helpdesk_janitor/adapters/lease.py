"""One janitor run at a time across all replicas: the shared MongoDB lease, in `janitor_lease`.

A run takes the lease, renews it after every batch and deletes it at the end, so a crashed run
blocks others only until the lease expires (see `helpdesk_runtime.lease`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from helpdesk_runtime import lease
from helpdesk_runtime.mongo import Document
from pymongo.asynchronous.database import AsyncDatabase

from helpdesk_janitor.errors import LeaseLostError

COLLECTION = "janitor_lease"
LEASE_ID = "retention"


class Lease(lease.Lease):
    def __init__(self, db: AsyncDatabase[Document], *, duration: timedelta) -> None:
        super().__init__(db[COLLECTION], LEASE_ID, duration=duration)

    async def renew(self, owner: str, now: datetime) -> None:
        """Extend our lease; raises the janitor's LeaseLostError if another run took it."""
        try:
            await super().renew(owner, now)
        except lease.LeaseLostError as exc:
            raise LeaseLostError(f"the janitor lease of {owner} was taken over") from exc
