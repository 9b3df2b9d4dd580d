"""Calls that go together: what many concurrent updates ask of MongoDB in one round trip.

Updates of many users are handled at once. A call to a `Batches` joins the next batch, which
starts as soon as the one in flight is answered (at once when none is), so an idle gateway
waits for nothing and a busy one makes one round trip (a `find` with `$in`, an unordered
`insert_many`) for everything asked meanwhile; each call still returns only when its own item
was answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any

from helpdesk_runtime.mongo import by_ids
from pymongo.asynchronous.collection import AsyncCollection

Document = dict[str, Any]


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


async def documents_by_id[K: Hashable](
    collection: AsyncCollection[Document],
    ids: Sequence[K],
    projection: Document | None = None,
) -> dict[K, Document | None]:
    """One `find` for a batch: each id asked for, with its document or None."""
    found: dict[K, Document | None] = dict.fromkeys(ids)
    async for document in collection.find(by_ids(found), projection):
        found[document["_id"]] = document
    return found
