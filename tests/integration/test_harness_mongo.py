"""The MongoDB used by the tests is a real wire-protocol server reached through AsyncMongoClient."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gridfs import AsyncGridFSBucket
from helpdesk_harness.mongo import MongoEcoServer
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

pytestmark = pytest.mark.integration

Document = dict[str, Any]


async def test_unique_index_and_atomic_update(mongo_db: AsyncDatabase[Document]) -> None:
    users = mongo_db["users"]
    await users.create_index("email", unique=True)
    await users.insert_one({"email": "a@example.com", "n": 0})
    with pytest.raises(DuplicateKeyError):
        await users.insert_one({"email": "a@example.com"})
    after = await users.find_one_and_update(
        {"email": "a@example.com"}, {"$inc": {"n": 1}, "$push": {"log": "x"}}, return_document=True
    )
    assert after is not None and after["n"] == 1 and after["log"] == ["x"]


async def test_gridfs_round_trip(mongo_db: AsyncDatabase[Document]) -> None:
    bucket = AsyncGridFSBucket(mongo_db, bucket_name="attachments")
    data = bytes(range(256)) * 1000
    file_id = await bucket.upload_from_stream("photo.jpg", data, metadata={"ticket_id": None})
    stream = await bucket.open_download_stream(file_id)
    assert await stream.read() == data
    files = await mongo_db["attachments.files"].find_one({"_id": file_id})
    assert files is not None and files["length"] == len(data)


async def test_sqlite_engine_keeps_data_across_a_kill(tmp_path: Path) -> None:
    server = MongoEcoServer(tmp_path, sqlite=True)
    server.start()
    try:
        client: AsyncMongoClient[Document] = AsyncMongoClient(server.url)
        await client["db"]["c"].insert_one({"_id": 1, "kept": True})
        await client.close()
        server.stop()  # SIGKILL
        server.start()
        client = AsyncMongoClient(server.url)
        assert await client["db"]["c"].find_one({"_id": 1}) == {"_id": 1, "kept": True}
        await client.close()
    finally:
        server.stop()
