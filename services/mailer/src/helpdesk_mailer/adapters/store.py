"""`outgoing_mail`: one document per email (ticket or SendMail), the idempotency key and log.

States: `sending` (recorded before every SMTP attempt), `retrying` (a transient failure; a delayed
retry is queued), `sent` and `failed` (final). The final update and the event it causes are one
document write: the event sits in the document's `outbox` until the relay published it.

A delivery holds a lease while it talks SMTP, so a second copy of the same message (a duplicate
publish, another replica, a redelivery after a crash) waits instead of sending in parallel. A
crash leaves the lease to expire; the redelivered message then sends again (same Message-ID).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from helpdesk_runtime.outbox import OUTBOX_FIELD
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError, PyMongoError

from helpdesk_mailer.errors import DeliveryError, StorageUnavailableError

Document = dict[str, Any]
COLLECTION = "outgoing_mail"
OPEN_STATES = ("sending", "retrying")
FinalState = Literal["sent", "failed"]


@dataclass(frozen=True, slots=True)
class Claimed:
    """This delivery may talk SMTP now."""

    attempts: int  # including this one
    first_attempt_at: datetime
    delay_notified: bool


@dataclass(frozen=True, slots=True)
class Finished:
    """Already sent or given up: nothing to send."""

    state: FinalState


@dataclass(frozen=True, slots=True)
class Busy:
    """Another delivery of the same email holds the lease until `until`."""

    until: datetime


Claim = Claimed | Finished | Busy


def _error(error: DeliveryError | None, reason: str) -> Document:
    return {
        "reason": reason,
        "smtp_code": error.smtp_code if error else None,
        "smtp_reply": error.smtp_reply if error else None,
    }


class OutgoingMailStore:
    def __init__(
        self,
        collection: AsyncCollection[Document],
        *,
        owner: str,
        lease: timedelta,
        retention: timedelta,
    ) -> None:
        self.collection = collection
        self.owner = owner
        self.lease = lease
        self.retention = retention

    async def ensure_indexes(self) -> None:
        try:
            # Records of finished emails expire; open ones (no expire_at) never do.
            await self.collection.create_index("expire_at", expireAfterSeconds=0)
            await self.collection.create_index([("state", 1), ("last_attempt_at", 1)])
        except PyMongoError as exc:
            raise StorageUnavailableError(f"indexes: {type(exc).__name__}") from exc

    async def claim(self, key: str, fields: Document, now: datetime) -> Claim:
        """Record `sending` for this attempt, or say why not."""
        try:
            return await self._claim(key, fields, now)
        except PyMongoError as exc:
            raise StorageUnavailableError(f"claim: {type(exc).__name__}") from exc

    async def _claim(self, key: str, fields: Document, now: datetime) -> Claim:
        lease_until = now + self.lease
        try:
            await self.collection.insert_one(
                {
                    "_id": key,
                    **fields,
                    "state": "sending",
                    "attempts": 1,
                    "first_attempt_at": now,
                    "last_attempt_at": now,
                    "lease_owner": self.owner,
                    "lease_until": lease_until,
                    "delay_notified": False,
                    OUTBOX_FIELD: [],
                }
            )
            return Claimed(attempts=1, first_attempt_at=now, delay_notified=False)
        except DuplicateKeyError:
            pass
        doc = await self.collection.find_one_and_update(
            {"_id": key, "state": {"$in": list(OPEN_STATES)}, "lease_until": {"$lte": now}},
            {
                "$set": {
                    "state": "sending",
                    "last_attempt_at": now,
                    "lease_owner": self.owner,
                    "lease_until": lease_until,
                },
                "$inc": {"attempts": 1},
            },
            projection={"attempts": 1, "first_attempt_at": 1, "delay_notified": 1},
            return_document=ReturnDocument.AFTER,
        )
        if doc is not None:
            return Claimed(
                attempts=int(doc["attempts"]),
                first_attempt_at=doc["first_attempt_at"],
                delay_notified=bool(doc.get("delay_notified")),
            )
        current = await self.collection.find_one({"_id": key}, {"state": 1, "lease_until": 1})
        if current is None:  # expired between our two reads: try again shortly
            return Busy(until=now)
        if current["state"] in ("sent", "failed"):
            return Finished(state=current["state"])
        return Busy(until=current["lease_until"])

    async def _finish(self, key: str, update: Document, outbox: list[Document]) -> bool:
        """Apply a state change with its events, if the email is still open; True if applied."""
        if outbox:
            update["$push"] = {OUTBOX_FIELD: {"$each": outbox}}
        try:
            result = await self.collection.update_one(
                {"_id": key, "state": {"$in": list(OPEN_STATES)}}, update
            )
        except PyMongoError as exc:
            raise StorageUnavailableError(f"update: {type(exc).__name__}") from exc
        return result.modified_count == 1

    async def mark_sent(
        self, key: str, *, email_message_id: str, reply: str, now: datetime, outbox: list[Document]
    ) -> bool:
        return await self._finish(
            key,
            {
                "$set": {
                    "state": "sent",
                    "sent_at": now,
                    "email_message_id": email_message_id,
                    "smtp_reply": reply,
                    "lease_until": now,
                    "expire_at": now + self.retention,
                }
            },
            outbox,
        )

    async def mark_retrying(
        self,
        key: str,
        *,
        error: DeliveryError | None,
        reason: str,
        next_attempt_at: datetime,
        now: datetime,
        outbox: list[Document],
    ) -> bool:
        fields: Document = {
            "state": "retrying",
            "last_error": _error(error, reason),
            "next_attempt_at": next_attempt_at,
            # Released: the queued retry (on any replica) may claim it at once.
            "lease_until": now,
        }
        if outbox:
            fields["delay_notified"] = True
        return await self._finish(key, {"$set": fields}, outbox)

    async def mark_failed(
        self,
        key: str,
        *,
        error: DeliveryError | None,
        reason: str,
        now: datetime,
        outbox: list[Document],
    ) -> bool:
        return await self._finish(
            key,
            {
                "$set": {
                    "state": "failed",
                    "failed_at": now,
                    "last_error": _error(error, reason),
                    "lease_until": now,
                    "expire_at": now + self.retention,
                }
            },
            outbox,
        )
