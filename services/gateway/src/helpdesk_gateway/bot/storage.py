"""aiogram's PyMongoStorage on the service's own MongoDB client and database."""

from __future__ import annotations

from typing import Any

from aiogram.fsm.storage.pymongo import PyMongoStorage
from pymongo import AsyncMongoClient

FSM_COLLECTION = "gateway_fsm"


class SharedClientStorage(PyMongoStorage):
    """PyMongoStorage that leaves the client open on close: the service owns and closes it
    (aiogram closes its storage whenever polling stops)."""

    def __init__(self, client: AsyncMongoClient[Any], db_name: str) -> None:
        super().__init__(client, db_name=db_name, collection_name=FSM_COLLECTION)

    async def close(self) -> None:
        return None
