"""aiogram's PyMongoStorage on the service's own MongoDB client and database, read once and
written once per update.

aiogram's storage makes a round trip for every call: the FSM middleware reads the state, a
filter and a handler read the data again, `set_state` and `update_data` write separately, and
`clear()` is two writes. Inside `unit()` (one per update, opened by the dispatcher, and one per
`FsmAccess` context) a key's document (`{_id, state, data}`, as PyMongoStorage keeps it) is read
once (with those of other users' updates begun meanwhile: adapters/batches.py), calls work on
that copy, and `flush()` writes what changed in one update: `$set`/`$unset`
of the state and of each changed `data` key (so a writer that changed other keys meanwhile keeps
them, as with `update_data`), or a delete when state and data are both gone. Nothing is written
when nothing changed. The dispatcher flushes under the per-user lock, after the handler, so the
next update of the user (or an auth event through `FsmAccess`) reads what this one left; a
process killed before the flush leaves the previous state, and the update, unconfirmed, is
handled again. Outside a unit every call goes straight to MongoDB, as in PyMongoStorage.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.storage.base import StateType, StorageKey
from aiogram.fsm.storage.pymongo import PyMongoStorage
from helpdesk_gateway.adapters.batches import Batches, documents_by_id
from pymongo import AsyncMongoClient

FSM_COLLECTION = "gateway_fsm"

Document = dict[str, Any]


@dataclass
class _Copy:
    """A key's document as read at the start of the unit, and as the unit left it."""

    read_state: str | None
    read_data: Document
    state: str | None = None
    data: Document = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.state = self.read_state
        self.data = copy.deepcopy(self.read_data)


_unit: ContextVar[dict[str, _Copy] | None] = ContextVar("gateway_fsm_unit", default=None)


class SharedClientStorage(PyMongoStorage):
    """PyMongoStorage with a read-once, write-once unit of work (see the module docstring)
    that leaves the client open on close: the service owns and closes it (aiogram closes its
    storage whenever polling stops)."""

    def __init__(self, client: AsyncMongoClient[Any], db_name: str) -> None:
        super().__init__(client, db_name=db_name, collection_name=FSM_COLLECTION)
        self._read = Batches[str, Document | None](self._find)

    async def close(self) -> None:
        return None

    @contextmanager
    def unit(self) -> Iterator[None]:
        """Calls in this task (and the tasks it starts) share one copy per key until
        `flush`; what is not flushed is dropped."""
        token = _unit.set({})
        try:
            yield
        finally:
            _unit.reset(token)

    async def _copy(self, key: StorageKey) -> _Copy | None:
        unit = _unit.get()
        if unit is None:
            return None
        document_id = self._key_builder.build(key)
        found = unit.get(document_id)
        if found is None:
            document = await self._read(document_id) or {}
            found = unit[document_id] = _Copy(document.get("state"), document.get("data") or {})
        return found

    async def _find(self, document_ids: Sequence[str]) -> dict[str, Document | None]:
        return await documents_by_id(self._collection, document_ids)

    async def get_state(self, key: StorageKey) -> str | None:
        held = await self._copy(key)
        return await super().get_state(key) if held is None else held.state

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        held = await self._copy(key)
        return await super().get_data(key) if held is None else copy.deepcopy(held.data)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        held = await self._copy(key)
        if held is None:
            await super().set_state(key, state)
        else:
            held.state = self.resolve_state(state)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, dict):
            msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
            raise DataNotDictLikeError(msg)
        held = await self._copy(key)
        if held is None:
            await super().set_data(key, data)
        else:
            held.data = copy.deepcopy(data)

    async def update_data(self, key: StorageKey, data: Mapping[str, Any]) -> dict[str, Any]:
        held = await self._copy(key)
        if held is None:
            return await super().update_data(key, data)
        held.data.update(copy.deepcopy(dict(data)))
        return copy.deepcopy(held.data)

    async def flush(self) -> None:
        """Write what the unit changed: one round trip per document changed, or none."""
        unit = _unit.get()
        while unit:
            document_id, held = unit.popitem()
            await self._write(document_id, held)

    async def _write(self, document_id: str, held: _Copy) -> None:
        if held.state is None and not held.data:
            if held.read_state is not None or held.read_data:
                await self._collection.delete_one({"_id": document_id})
        elif update := _changes(held):
            await self._collection.update_one({"_id": document_id}, update, upsert=True)


def _changes(held: _Copy) -> Document:
    """The `$set`/`$unset` turning the document read into the one the unit left."""
    set_: Document = {}
    unset: Document = {}
    if held.state != held.read_state:
        if held.state is None:
            unset["state"] = 1
        else:
            set_["state"] = held.state
    if not held.data:
        if held.read_data:
            unset["data"] = 1
    elif not held.read_data:
        set_["data"] = held.data
    elif any("." in name or name.startswith("$") for name in held.data.keys() | held.read_data):
        set_["data"] = held.data  # names a field path cannot hold
    else:
        for name, value in held.data.items():
            if name not in held.read_data or held.read_data[name] != value:
                set_[f"data.{name}"] = value
        for name in held.read_data.keys() - held.data.keys():
            unset[f"data.{name}"] = 1
    update: Document = {}
    if set_:
        update["$set"] = set_
    if unset:
        update["$unset"] = unset
    return update
