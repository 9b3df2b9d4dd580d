"""Transactional outbox without transactions.

A state change and the events it causes are written in ONE document update: the events go into
that document's `outbox` array. A relay publishes each pending entry (confirmed) and then pulls
what a pass published, in one write. A crash between the two publishes those entries again later:
consumers de-duplicate on message_id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from helpdesk_contracts.base import Message, utc_now
from pymongo.asynchronous.collection import AsyncCollection

from helpdesk_runtime.broker import Publisher
from helpdesk_runtime.mongo import by_ids

Document = dict[str, Any]
OUTBOX_FIELD = "outbox"
PENDING = {f"{OUTBOX_FIELD}.message_id": {"$exists": True}}
"""Documents with pending entries. A sparse index on `outbox.message_id` holds only those, so
finding them costs what is pending, not the size of the collection."""

logger = logging.getLogger("helpdesk.outbox")


def outbox_entry(message: Message) -> Document:
    """The document form of a pending event; `$push` it in the same update as the change."""
    return {
        "message_id": str(message.message_id),
        "exchange": message.exchange,
        "routing_key": message.routing_key,
        "correlation_id": str(message.correlation_id) if message.correlation_id else None,
        "body": message.model_dump_json(),
        "queued_at": utc_now(),
    }


class OutboxRelay:
    """Publishes pending outbox entries of some collections, oldest document first."""

    def __init__(
        self,
        publisher: Publisher,
        collections: Sequence[AsyncCollection[Document]],
        *,
        interval_seconds: float = 1.0,
        batch: int = 100,
    ) -> None:
        self.publisher = publisher
        self.collections = list(collections)
        self.interval_seconds = interval_seconds
        self.batch = batch
        self._wake = asyncio.Event()
        self._more = False
        """The last pass took a full batch from some collection: more may be waiting."""
        self._stopping = False
        self._finished: asyncio.Event | None = None  # None: never ran; set: run() returned

    def notify(self) -> None:
        """Something was just written: relay now rather than at the next tick."""
        self._wake.set()

    async def ensure_indexes(self) -> None:
        for collection in self.collections:
            await collection.create_index(
                f"{OUTBOX_FIELD}.message_id", sparse=True, name="outbox_pending"
            )

    async def run_once(self) -> int:
        """Publish what is pending now; returns how many entries were published."""
        published = 0
        self._more = False
        for collection in self.collections:
            cursor = collection.find(PENDING, {OUTBOX_FIELD: 1}).limit(self.batch)
            documents = [doc async for doc in cursor]
            self._more = self._more or len(documents) >= self.batch
            sent: dict[Any, list[str]] = {}
            try:
                for doc in documents:
                    for entry in doc.get(OUTBOX_FIELD, []):
                        await self.publisher.publish_raw(
                            entry["body"].encode(),
                            exchange=entry["exchange"],
                            routing_key=entry["routing_key"],
                            message_id=entry["message_id"],
                            correlation_id=entry.get("correlation_id"),
                        )
                        sent.setdefault(doc["_id"], []).append(entry["message_id"])
                        published += 1
            finally:
                # What was published leaves the outboxes in one write (a crash before it
                # publishes those again: consumers de-duplicate on message_id).
                if sent:
                    await collection.update_many(
                        by_ids(sent),
                        {
                            "$pull": {
                                OUTBOX_FIELD: {
                                    "message_id": {"$in": [m for ids in sent.values() for m in ids]}
                                }
                            }
                        },
                    )
        return published

    async def run(self) -> None:
        """Relay until stopped or cancelled; failures are logged and retried with a growing pause.

        `stop()` lets the pass under way finish and makes one more, so events written by handlers
        that completed during shutdown leave before the broker connection closes.
        """
        self._stopping = False
        finished = self._finished = asyncio.Event()
        try:
            await self._loop()
        finally:
            finished.set()

    async def _loop(self) -> None:
        await self.ensure_indexes()
        pause = self.interval_seconds
        while True:
            stopping = self._stopping
            # Cleared before the pass: a notify() that lands during the pass wakes the next one.
            self._wake.clear()
            try:
                await self.run_once()
                pause = self.interval_seconds
                if stopping:
                    return
                if self._more:
                    continue  # there may be more than one batch
                # Entries written during the pass set _wake (cleared above): no empty pass to
                # look for them.
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("outbox relay failed; will retry", extra={"pause": pause})
                if stopping:
                    return
                pause = min(pause * 2, 30.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=pause)

    async def stop(self) -> None:
        """Finish the current pass plus a final one; bound the wait with `asyncio.timeout`.

        What is still pending afterwards stays in MongoDB and is published on the next start.
        """
        finished = self._finished
        if finished is None or finished.is_set():
            return
        self._stopping = True
        self._wake.set()
        await finished.wait()
