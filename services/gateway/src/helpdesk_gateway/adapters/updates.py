"""`gateway_updates`: Telegram update ids handled to the end, so a redelivered one is skipped.

Telegram delivers an update again when the bot did not confirm it: the gateway confirms an update
only once it was handled (see bot/window.py), and a webhook answer may time out. An id is recorded
*after* the update's effects, so a gateway killed mid-update handles it again after the restart
(the handlers are idempotent) instead of losing it. Ids expire after a TTL; Telegram only reuses
ids after a week of silence.

The ids this process handled are also kept in memory (the latest `RECENT`), so an update handed
out twice while the process runs is recognised without asking MongoDB. Polling asks MongoDB only
about ids at or below the highest one recorded when it began (`begin_polling`): only one process
polls a bot (Telegram refuses a second getUpdates), so an id above it that this process has not
handled is new. Webhook replicas ask about every id they did not handle themselves. Polling also
forgets the ids a getUpdates confirmed (`confirmed_below`): Telegram never hands those out again
(and a repeat within the process is caught in memory), so the log holds only what was handled
but not yet confirmed, and stays small. The TTL is the backstop, and all there is for webhooks.

Asking and recording go in batches (adapters/batches.py): one `find` (`runtime.mongo.by_ids`), one
unordered `insert_many`, for the updates being handled at the same time, each call still returning
only once its own id was looked up or written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from helpdesk_gateway.adapters.batches import Batches, documents_by_id
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, PyMongoError

log = logging.getLogger("helpdesk.gateway.updates")

Document = dict[str, Any]
COLLECTION = "gateway_updates"
DUPLICATE_KEY = 11000
RECENT = 20_000


class UpdateLog:
    def __init__(self, collection: AsyncCollection[Document], *, ttl_seconds: int) -> None:
        self.collection = collection
        self.ttl_seconds = ttl_seconds
        self._handled = Batches[int, bool](self._find_handled)
        self._record = Batches[tuple[int, datetime], None](self._insert)
        self._recent: dict[int, None] = {}
        """Ids handled by this process, oldest first (an insertion-ordered set)."""
        self._new_above: int | None = None
        """Polling: only this process records ids above this one; None: anyone may."""
        self._forgotten_below = 0
        self._forgetting: asyncio.Task[None] | None = None

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("received_at", expireAfterSeconds=self.ttl_seconds)

    async def begin_polling(self) -> None:
        """This process alone handles the bot's updates from now on (long polling)."""
        try:
            latest = await self.collection.find_one({}, {"_id": 1}, sort=[("_id", -1)])
        except PyMongoError as exc:  # then MongoDB is asked about every update
            log.warning("update log unreadable at start", extra={"error": type(exc).__name__})
            return
        self._new_above = -1 if latest is None else int(latest["_id"])

    def confirmed_below(self, update_id: int | None) -> None:
        """A getUpdates with this offset was answered: Telegram confirmed every id below it (all
        handled and recorded) and will not hand them out again, so their records go. One
        deletion at a time, in the background; one that fails is left to the TTL."""
        if update_id is None or update_id <= self._forgotten_below:
            return
        if self._forgetting is not None and not self._forgetting.done():
            return
        self._forgetting = asyncio.create_task(self._forget_below(update_id))

    async def _forget_below(self, update_id: int) -> None:
        try:
            await self.collection.delete_many({"_id": {"$lt": update_id}})
        except PyMongoError as exc:
            log.warning("confirmed update ids not dropped", extra={"error": type(exc).__name__})
            return
        self._forgotten_below = max(self._forgotten_below, update_id)

    async def handled(self, update_id: int) -> bool:
        if update_id in self._recent:
            return True
        if self._new_above is not None and update_id > self._new_above:
            return False
        return await self._handled(update_id)

    async def record_handled(self, update_id: int, now: datetime) -> None:
        await self._record((update_id, now))
        self._recent[update_id] = None
        if len(self._recent) > RECENT:
            del self._recent[next(iter(self._recent))]

    async def _find_handled(self, update_ids: Sequence[int]) -> dict[int, bool]:
        found = await documents_by_id(self.collection, update_ids, {"_id": 1})
        return {update_id: doc is not None for update_id, doc in found.items()}

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
