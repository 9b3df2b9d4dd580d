"""The MongoDB used by the tests is a real wire-protocol server reached through AsyncMongoClient."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gridfs import AsyncGridFSBucket
from helpdesk_harness.mongo import MongoEcoServer
from helpdesk_harness.mongo_costs import costs_between, read_costs
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from tests.support.wait import eventually

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


async def test_the_server_reports_its_cpu_by_command(tmp_path: Path) -> None:
    """The benchmark's breakdown: commands counted by command and collection, with CPU time."""
    costs = tmp_path / "costs.json"
    with MongoEcoServer(tmp_path, costs=costs) as server:
        client: AsyncMongoClient[Document] = AsyncMongoClient(server.url)
        try:
            notes = client["bench"]["notes"]
            await notes.insert_one({"_id": 1})
            await notes.insert_one({"_id": 2})
            assert await notes.find_one({"_id": 2}) == {"_id": 2}
            before = read_costs(costs)

            async def counted() -> bool:
                return read_costs(costs).get("insert bench.notes", [0, 0])[0] == 2

            await eventually(counted, what="the two inserts in the costs file")
            await notes.delete_one({"_id": 1})

            async def deleted() -> bool:
                return "delete bench.notes" in read_costs(costs)

            await eventually(deleted, what="the delete in the costs file")
        finally:
            await client.close()
    after = read_costs(costs)
    assert after["find bench.notes"][0] == 1
    assert after["insert bench.notes"][1] > 0
    assert costs_between(before, after)["delete bench.notes"][0] == 1
    assert "insert bench.notes" not in costs_between(after, after)
