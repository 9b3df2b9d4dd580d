"""`gateway_updates`: Telegram update ids handled to the end, so a redelivered one is skipped.

Telegram delivers an update again when the bot did not confirm it: the gateway confirms an update
only once it was handled (see bot/window.py), and a webhook answer may time out. An id is recorded
*after* the update's effects, so a gateway killed mid-update handles it again after the restart
(the handlers are idempotent) instead of losing it. Ids expire after a TTL; Telegram only reuses
ids after a week of silence.

Updates of many users are handled at once, so asking and recording go in batches: a call joins
the next query (one `find` with `$in`, one unordered `insert_many`), which starts as soon as
the one in flight is answered; each call still returns only when its own id was looked up or
written. One round trip per batch instead of one per update.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

Document = dict[str, Any]
COLLECTION = "gateway_updates"
DUPLICATE_KEY = 11000


class Batches[T, R]:
    """Calls made while a batch is in flight wait for it to end, then go together."""

    def __init__(self, run: Callable[[Sequence[T]], Awaitable[dict[T, R]]]) -> None:
        self.run = run
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def __call__(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                results = await self.run([item for item, _ in batch])
            except asyncio.CancelledError:  # the loop is closing: nobody waits for ever
                for _, future in [*batch, *self._waiting]:
                    future.cancel()
                raise
            except Exception as error:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for item, future in batch:
                if not future.done():
                    future.set_result(results[item])


class UpdateLog:
    def __init__(self, collection: AsyncCollection[Document], *, ttl_seconds: int) -> None:
        self.collection = collection
        self.ttl_seconds = ttl_seconds
        self._handled = Batches[int, bool](self._find_handled)
        self._record = Batches[tuple[int, datetime], None](self._insert)

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("received_at", expireAfterSeconds=self.ttl_seconds)

    async def handled(self, update_id: int) -> bool:
        return await self._handled(update_id)

    async def record_handled(self, update_id: int, now: datetime) -> None:
        await self._record((update_id, now))

    async def _find_handled(self, update_ids: Sequence[int]) -> dict[int, bool]:
        found = self.collection.find({"_id": {"$in": list(set(update_ids))}}, {"_id": 1})
        handled = {doc["_id"] async for doc in found}
        return {update_id: update_id in handled for update_id in update_ids}

    async def _insert(self, records: Sequence[tuple[int, datetime]]) -> dict[Any, None]:
        # The field keeps its name: the TTL index of existing deployments is on it.
        unique = dict(records)
        documents = [{"_id": update_id, "received_at": now} for update_id, now in unique.items()]
        try:
            await self.collection.insert_many(documents, ordered=False)
        except BulkWriteError as error:
            # Recorded already (a redelivery handled twice, or by another replica): fine.
            if any(e.get("code") != DUPLICATE_KEY for e in error.details.get("writeErrors", [])):
                raise
            if error.details.get("writeConcernErrors"):
                raise
        return dict.fromkeys(records)
