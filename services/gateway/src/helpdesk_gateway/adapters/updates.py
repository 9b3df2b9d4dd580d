"""`gateway_updates`: Telegram update ids already taken in, so a redelivered update has no effect.

Telegram delivers an update again when the bot did not confirm it (a restart between handling
and the next getUpdates, a webhook answer that timed out). Ids expire after a TTL; Telegram only
reuses ids after a week of silence.
"""

from __future__ import annotations

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

    async def first_time(self, update_id: int, now: datetime) -> bool:
        try:
            await self.collection.insert_one({"_id": update_id, "received_at": now})
        except DuplicateKeyError:
            return False
        return True
