"""The MongoDB client, always PyMongo's native async API."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pymongo import AsyncMongoClient

from helpdesk_runtime.settings import InfraSettings

Document = dict[str, Any]


def create_mongo_client(infra: InfraSettings, *, app_name: str) -> AsyncMongoClient[Document]:
    """A client with bounded timeouts, so a dead database fails a request instead of hanging."""
    return AsyncMongoClient(
        infra.mongo_url.get_secret_value(),
        appname=app_name,
        tz_aware=True,
        serverSelectionTimeoutMS=infra.mongo_timeout_ms,
        connectTimeoutMS=infra.mongo_timeout_ms,
        socketTimeoutMS=max(infra.mongo_timeout_ms * 6, 30_000),
    )


async def ping(client: AsyncMongoClient[Document]) -> None:
    """Raise unless the server answers."""
    await client.admin.command("ping")


def by_ids(ids: Iterable[Any]) -> Document:
    """A filter on `_id` for these ids: equality for one, `$in` for several. Every server answers
    equality from its `_id` index; mongoeco (tests, sandbox, benchmark) scans the whole
    collection for any `$in`, even of one id."""
    unique = list(dict.fromkeys(ids))
    return {"_id": unique[0]} if len(unique) == 1 else {"_id": {"$in": unique}}
