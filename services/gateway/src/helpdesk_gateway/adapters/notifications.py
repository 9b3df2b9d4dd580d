"""`gateway_notifications`: messages to users that an event caused, delivered by the notifier.

A consumer writes the message here (keyed by what caused it, so a redelivered event inserts
nothing) and acks; the notifier sends it through the rate limiter, retries what failed for a
transient reason and drops what Telegram refuses for good. Documents expire after 30 days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

Document = dict[str, Any]
COLLECTION = "gateway_notifications"
KEEP_SECONDS = 30 * 24 * 3600
DUPLICATE_KEY = 11000


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    BLOCKED = "blocked"  # the user blocked the bot (403)
    FAILED = "failed"  # refused for good, or too many attempts


@dataclass(frozen=True, slots=True)
class Notification:
    key: str
    chat_id: int
    text: str
    markup: dict[str, Any] | None = None
    group: str | None = None
    attempts: int = 0
    file: dict[str, Any] | None = None
    """A GridFS file sent with the text as its caption: file_id, filename, as_photo."""
    retire: str | None = None
    """An earlier notification whose buttons go once this one is sent (they no longer apply)."""

    def document(self, now: datetime) -> Document:
        return {
            "_id": self.key,
            "chat_id": self.chat_id,
            "text": self.text,
            "markup": self.markup,
            "group": self.group,
            "file": self.file,
            "retire": self.retire,
            "state": DeliveryState.PENDING.value,
            "attempts": 0,
            "created_at": now,
            "next_at": now,
        }


def _from_doc(doc: Document) -> Notification:
    return Notification(
        key=doc["_id"],
        chat_id=int(doc["chat_id"]),
        text=doc["text"],
        markup=doc.get("markup"),
        group=doc.get("group"),
        attempts=int(doc.get("attempts", 0)),
        file=doc.get("file"),
        retire=doc.get("retire"),
    )


class NotificationQueue:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("state", ASCENDING), ("next_at", ASCENDING)])
        await self.collection.create_index([("group", ASCENDING), ("state", ASCENDING)])
        await self.collection.create_index("created_at", expireAfterSeconds=KEEP_SECONDS)

    async def enqueue(self, notification: Notification, now: datetime) -> bool:
        """False when a notification with this key exists (the cause was seen before)."""
        try:
            await self.collection.insert_one(notification.document(now))
        except DuplicateKeyError:
            return False
        return True

    async def enqueue_many(self, notifications: list[Notification], now: datetime) -> int:
        if not notifications:
            return 0
        try:
            result = await self.collection.insert_many(
                [n.document(now) for n in notifications], ordered=False
            )
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(error.get("code") != DUPLICATE_KEY for error in errors):
                raise
            return int(exc.details.get("nInserted", 0))
        return len(result.inserted_ids)

    async def due(self, now: datetime, limit: int) -> list[Notification]:
        cursor = (
            self.collection.find({"state": DeliveryState.PENDING.value, "next_at": {"$lte": now}})
            .sort("created_at", ASCENDING)
            .limit(limit)
        )
        return [_from_doc(doc) async for doc in cursor]

    async def next_due_at(self) -> datetime | None:
        doc = await self.collection.find_one(
            {"state": DeliveryState.PENDING.value}, {"next_at": 1}, sort=[("next_at", ASCENDING)]
        )
        return doc["next_at"] if doc else None

    async def finish(
        self,
        key: str,
        state: DeliveryState,
        now: datetime,
        *,
        error: str | None = None,
        message_id: int | None = None,
    ) -> None:
        fields: Document = {"state": state.value, "finished_at": now, "error": error}
        if message_id is not None:
            fields["message_id"] = message_id  # the Telegram message it became
        await self.collection.update_one({"_id": key}, {"$set": fields})

    async def message_id(self, key: str) -> int | None:
        """The Telegram message a delivered notification became (None if not delivered)."""
        doc = await self.collection.find_one({"_id": key}, {"message_id": 1})
        value = doc.get("message_id") if doc else None
        return int(value) if value is not None else None

    async def retry_at(self, key: str, when: datetime, error: str) -> None:
        await self.collection.update_one(
            {"_id": key}, {"$set": {"next_at": when, "error": error}, "$inc": {"attempts": 1}}
        )

    async def group_counts(self, group: str) -> dict[str, int]:
        counts = {state.value: 0 for state in DeliveryState}
        async for doc in self.collection.find({"group": group}, {"state": 1}):
            counts[doc["state"]] = counts.get(doc["state"], 0) + 1
        return counts
