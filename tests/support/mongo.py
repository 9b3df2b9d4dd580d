"""pytest fixtures for MongoDB (registered in tests/conftest.py): `MONGO_URL` if set, otherwise
a `helpdesk_harness.mongo.MongoEcoServer` for the session."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from helpdesk_harness.mongo import MongoEcoServer
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]


@pytest.fixture(scope="session")
def mongo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of the MongoDB server for this test session."""
    if external := os.environ.get("MONGO_URL"):
        yield external
        return
    with MongoEcoServer(tmp_path_factory.mktemp("mongoeco")) as server:
        yield server.url


@pytest.fixture
def mongo_db_name() -> str:
    """A database name of its own for one test."""
    return f"t_{uuid.uuid4().hex[:16]}"


@pytest.fixture
async def mongo_db(mongo_url: str, mongo_db_name: str) -> AsyncIterator[AsyncDatabase[Document]]:
    """An empty database of the test's own, dropped afterwards."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongo_url, tz_aware=True)
    try:
        yield client[mongo_db_name]
        await client.drop_database(mongo_db_name)
    finally:
        await client.close()
