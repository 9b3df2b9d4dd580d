"""Reads that go together: each caller gets its own document (or None), whether its batch held
one id or many, on the real Mongo-wire server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from helpdesk_gateway.adapters.batches import Batches, documents_by_id
from pymongo.asynchronous.database import AsyncDatabase

pytestmark = pytest.mark.integration

Document = dict[str, Any]


async def test_documents_by_id_answers_each_id(mongo_db: AsyncDatabase[Document]) -> None:
    users = mongo_db["batch_users"]
    await users.insert_many([{"_id": 5_100_000_001, "name": "Мария"}, {"_id": 7, "name": "Ivan"}])
    one = await documents_by_id(users, [5_100_000_001])
    assert one == {5_100_000_001: {"_id": 5_100_000_001, "name": "Мария"}}
    assert await documents_by_id(users, [8]) == {8: None}
    several = await documents_by_id(users, [7, 8, 5_100_000_001], {"name": 1})
    assert several == {7: {"_id": 7, "name": "Ivan"}, 8: None, 5_100_000_001: one[5_100_000_001]}


async def test_concurrent_callers_share_a_batch_and_get_their_own_answer(
    mongo_db: AsyncDatabase[Document],
) -> None:
    users = mongo_db["batch_users"]
    await users.insert_many([{"_id": i, "name": f"user {i}"} for i in range(1, 6)])
    batches: list[int] = []

    async def run(ids: Any) -> dict[int, Document | None]:
        batches.append(len(ids))
        return await documents_by_id(users, ids)

    read = Batches[int, Document | None](run)
    answers = await asyncio.gather(*(read(i) for i in (1, 2, 9, 4, 5)))
    assert [a and a["name"] for a in answers] == ["user 1", "user 2", None, "user 4", "user 5"]
    assert sum(batches) == 5 and len(batches) < 5
