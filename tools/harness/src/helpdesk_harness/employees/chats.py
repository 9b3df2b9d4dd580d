"""Watching many chats of the fake Bot API at once, cheaply and with arrival times.

`FakeTelegramClient.wait_for_bot_message` re-reads a chat whenever anything in the fake changes;
with dozens of people waiting at once that is a request storm that would steal the CPU from the
system under test. `ChatWatcher` instead runs one long poll for the whole fake, asks which chats
grew, reads only those (without file bytes) and hands each new bot message, stamped with the
moment it was seen, to the queue of its chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from helpdesk_harness.fake_telegram import ChatMessage, FakeTelegramClient

POLL_SECONDS = 20.0


class WideClient(FakeTelegramClient):
    """The fake's client without aiohttp's 100-connection cap: hundreds of people act at once."""

    async def open(self) -> WideClient:
        if self._session is None:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        await super().open()
        return self

    async def __aenter__(self) -> WideClient:
        return await self.open()


@dataclass(frozen=True, slots=True)
class Seen:
    message: ChatMessage
    at: float
    """time.monotonic() when the watcher saw it."""


class ChatWatcher:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._queues: dict[int, asyncio.Queue[Seen]] = {}
        self._last_id: dict[int, int] = {}
        self._counts: dict[int, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.errors = 0

    async def __aenter__(self) -> ChatWatcher:
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=8))
        self._task = asyncio.create_task(self._run(), name="chat-watcher")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()

    async def watch(self, chat_id: int) -> asyncio.Queue[Seen]:
        """The queue of new bot messages of a chat, from now on (older ones are skipped)."""
        if chat_id not in self._queues:
            messages = await self._bot_messages(chat_id)
            self._last_id[chat_id] = max((m.message_id for m in messages), default=0)
            self._queues[chat_id] = asyncio.Queue()
        return self._queues[chat_id]

    async def _get(self, path: str, **query: str) -> dict[str, Any]:
        assert self._session is not None
        timeout = aiohttp.ClientTimeout(total=POLL_SECONDS + 30)
        async with self._session.get(self.base_url + path, params=query, timeout=timeout) as got:
            got.raise_for_status()
            answer: dict[str, Any] = await got.json()
            return answer

    async def _bot_messages(self, chat_id: int) -> list[ChatMessage]:
        answer = await self._get(f"/_test/chats/{chat_id}/messages", side="bot", bytes="0")
        return [ChatMessage.from_json(m) for m in answer["messages"]]

    async def _run(self) -> None:
        version = 0
        while True:
            try:
                version = await self._round(version)
            except asyncio.CancelledError:
                raise
            except (aiohttp.ClientError, TimeoutError):
                # The fake is being restarted or is overloaded: keep watching.
                self.errors += 1
                await asyncio.sleep(0.2)

    async def _round(self, version: int) -> int:
        await self._get("/_test/changes", after=str(version), timeout=str(POLL_SECONDS))
        listed = await self._get("/_test/chats")
        grown = []
        for chat in listed["chats"]:
            chat_id, count = int(chat["chat_id"]), int(chat["message_count"])
            if chat_id in self._queues and self._counts.get(chat_id) != count:
                self._counts[chat_id] = count
                grown.append(chat_id)
        batches = await asyncio.gather(*(self._bot_messages(chat_id) for chat_id in grown))
        now = time.monotonic()
        for chat_id, messages in zip(grown, batches, strict=True):
            last = self._last_id[chat_id]
            for message in messages:
                if message.message_id > last:
                    self._queues[chat_id].put_nowait(Seen(message, now))
                    self._last_id[chat_id] = message.message_id
        return int(listed["version"])
