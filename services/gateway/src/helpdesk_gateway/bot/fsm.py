"""FSM access from outside an update (a consumer answering for auth), under the same per-user
lock the dispatcher uses, so an event never races the user's own messages; like an update, it
reads the document once and writes what changed once, when the context closes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram import Dispatcher
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from helpdesk_gateway.bot.storage import SharedClientStorage


class FsmAccess:
    def __init__(self, dispatcher: Dispatcher, bot_id: int) -> None:
        self.dispatcher = dispatcher
        self.bot_id = bot_id

    @asynccontextmanager
    async def context(self, chat_id: int, user_id: int) -> AsyncIterator[FSMContext]:
        key = StorageKey(bot_id=self.bot_id, chat_id=chat_id, user_id=user_id)
        storage = self.dispatcher.storage
        async with self.dispatcher.fsm.events_isolation.lock(key):
            if not isinstance(storage, SharedClientStorage):
                yield FSMContext(storage=storage, key=key)
                return
            with storage.unit():
                try:
                    yield FSMContext(storage=storage, key=key)
                finally:  # a failure keeps what was changed before it, as in an update
                    await storage.flush()
