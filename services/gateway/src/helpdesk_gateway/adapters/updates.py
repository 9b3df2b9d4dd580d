"""`gateway_updates`: Telegram update ids handled to the end, so a redelivered one is skipped.

Telegram delivers an update again when the bot did not confirm it: the gateway confirms an update
only once it was handled (see bot/window.py), and a webhook answer may time out. An id is recorded
*after* the update's effects, so a gateway killed mid-update handles it again after the restart
(the handlers are idempotent) instead of losing it. Ids expire after a TTL; Telegram only reuses
ids after a week of silence.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

Document = dict[str, Any]
COLLECTION = "gateway_updates"


class UpdateLog:
    def __init__(self, collection: AsyncCollection[Document], *, ttl_seconds: int) -> None:
        self.collection = collection
        self.ttl_seconds = ttl_seconds

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("received_at", expireAfterSeconds=self.ttl_seconds)

    async def handled(self, update_id: int) -> bool:
        return await self.collection.find_one({"_id": update_id}, {"_id": 1}) is not None

    async def record_handled(self, update_id: int, now: datetime) -> None:
        # The field keeps its name: the TTL index of existing deployments is on it.
        with contextlib.suppress(DuplicateKeyError):
            await self.collection.insert_one({"_id": update_id, "received_at": now})
