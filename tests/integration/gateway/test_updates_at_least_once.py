"""A gateway killed in the middle of an update handles it after the restart, from the
conversation state the update found (what it changed was not written); one handled to the end
is neither repeated nor lost. Real fake Bot API (offsets, redelivery) and Mongo-wire server;
the kill is simulated by cancelling the process's tasks, which runs none of its remaining code."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from helpdesk_gateway.adapters.updates import COLLECTION, UpdateLog
from helpdesk_gateway.bot.albums import AlbumCollector
from helpdesk_gateway.bot.dispatcher import GatewayDispatcher
from helpdesk_gateway.bot.storage import SharedClientStorage
from helpdesk_harness.fake_telegram import FakeTelegramClient, FakeTelegramServer, User
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.wait import eventually

pytestmark = pytest.mark.integration

Document = dict[str, Any]
MARIA = User(id=5_100_000_001, first_name="Мария")


class Gateway:
    """One gateway process: its own dispatcher and polling, the shared update log."""

    def __init__(self, server: FakeTelegramServer, token: str, db: AsyncDatabase[Document]):
        self.bot = Bot(
            token, session=AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
        )
        self.seen: list[str] = []
        self.slow_started = asyncio.Event()
        self.release_slow = asyncio.Event()
        self.dispatcher = GatewayDispatcher(
            update_log=UpdateLog(db[COLLECTION], ttl_seconds=3600),
            albums=AlbumCollector(0.5),
            clock=lambda: datetime.now(UTC),
            storage=SharedClientStorage(db.client, db.name),
        )
        router = Router()

        @router.message(F.text)
        async def answer(message: Message, state: FSMContext) -> None:
            text = message.text or ""
            self.seen.append(text)
            before = await state.get_state()
            await state.set_state(f"after:{text}")
            if text == "slow":
                self.slow_started.set()
                await self.release_slow.wait()
            await message.answer(f"got {text} (after {before})")

        self.dispatcher.include_router(router)
        self.polling: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.polling = asyncio.create_task(
            self.dispatcher.poll_updates(self.bot, polling_timeout=1, allowed_updates=None)
        )

    async def kill(self) -> None:
        """Everything stops where it is: no handler finishes, nothing more is confirmed."""
        tasks = [t for t in self.dispatcher._in_flight if not t.done()]
        if self.polling is not None:
            tasks.append(self.polling)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.bot.session.close()

    async def stop(self) -> None:
        if self.polling is not None:
            self.polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.polling
        await self.dispatcher.drain(5)
        await self.bot.session.close()


@pytest.fixture
async def gateways(
    fake_telegram_server: FakeTelegramServer,
    fake_telegram: FakeTelegramClient,
    mongo_db: AsyncDatabase[Document],
) -> AsyncIterator[list[Gateway]]:
    started: list[Gateway] = []
    yield started
    for gateway in started:
        with contextlib.suppress(Exception):
            await gateway.stop()


def new_gateway(
    started: list[Gateway], server: FakeTelegramServer, tg: FakeTelegramClient, db: Any
) -> Gateway:
    gateway = Gateway(server, tg.token, db)
    started.append(gateway)
    gateway.start()
    return gateway


async def test_an_update_interrupted_by_a_crash_is_handled_after_the_restart(
    gateways: list[Gateway],
    fake_telegram_server: FakeTelegramServer,
    fake_telegram: FakeTelegramClient,
    mongo_db: AsyncDatabase[Document],
) -> None:
    tg = fake_telegram
    first = new_gateway(gateways, fake_telegram_server, tg, mongo_db)
    await tg.send_text(MARIA, "hello")
    assert (await tg.wait_for_bot_message(MARIA.id)).visible_text == "got hello (after None)"
    await tg.send_text(MARIA, "slow")
    await asyncio.wait_for(first.slow_started.wait(), timeout=10)
    # The gateway keeps polling meanwhile; "slow" must stay unconfirmed all along.
    polls = len(await tg.calls("getUpdates"))

    async def polled_on() -> bool:
        return len(await tg.calls("getUpdates")) >= polls + 3

    await eventually(polled_on, what="the gateway polling on while it handles 'slow'")
    pending = [p["update"].get("message", {}).get("text") for p in await tg.pending_updates()]
    assert pending == ["slow"]
    await first.kill()  # mid-update: "slow" got no answer

    second = new_gateway(gateways, fake_telegram_server, tg, mongo_db)
    second.release_slow.set()
    answer = await tg.wait_for_bot_message(MARIA.id, timeout=15)
    # The interrupted update changed the conversation's state only in its own copy: handled
    # again, it starts from the state "hello" left.
    assert answer.visible_text == "got slow (after after:hello)"
    # "hello" was handled to the end before the crash: not handled again, not answered twice.
    await tg.send_text(MARIA, "after")
    answer = await tg.wait_for_bot_message(MARIA.id, timeout=15)
    assert answer.visible_text == "got after (after after:slow)"
    assert second.seen == ["slow", "after"]
    texts = [m.visible_text for m in await tg.bot_messages(MARIA.id)]
    assert texts == [
        "got hello (after None)",
        "got slow (after after:hello)",
        "got after (after after:slow)",
    ]


async def test_updates_handled_to_the_end_are_confirmed_to_telegram_and_forgotten(
    gateways: list[Gateway],
    fake_telegram_server: FakeTelegramServer,
    fake_telegram: FakeTelegramClient,
    mongo_db: AsyncDatabase[Document],
) -> None:
    tg = fake_telegram
    gateway = new_gateway(gateways, fake_telegram_server, tg, mongo_db)
    for text in ("one", "two", "three"):
        await tg.send_text(MARIA, text)
    for _ in range(3):
        await tg.wait_for_bot_message(MARIA.id, timeout=10)

    async def all_confirmed() -> bool:
        return await tg.pending_updates() == []

    await eventually(all_confirmed, what="every handled update confirmed")
    assert sorted(gateway.seen) == ["one", "three", "two"]

    async def log_emptied() -> bool:
        # Telegram never hands a confirmed update out again: its record has no use left.
        return await mongo_db[COLLECTION].count_documents({}) == 0

    await eventually(log_emptied, what="the confirmed updates' records dropped")


async def test_an_update_handled_but_not_confirmed_before_a_crash_is_not_handled_again(
    gateways: list[Gateway],
    fake_telegram_server: FakeTelegramServer,
    fake_telegram: FakeTelegramClient,
    mongo_db: AsyncDatabase[Document],
) -> None:
    """'quick' is handled to the end, but 'slow' (older, still in flight) holds the offset, so
    Telegram hands both to the next process: it handles 'slow' and skips 'quick'. An update
    newer than anything the first process saw is handled as usual."""
    tg = fake_telegram
    first = new_gateway(gateways, fake_telegram_server, tg, mongo_db)
    await tg.send_text(MARIA, "slow")
    await asyncio.wait_for(first.slow_started.wait(), timeout=10)
    await tg.send_text(MARIA, "quick")
    assert (await tg.wait_for_bot_message(MARIA.id)).visible_text == "got quick (after None)"

    async def quick_recorded() -> bool:
        return await mongo_db[COLLECTION].count_documents({}) == 1

    await eventually(quick_recorded, what="'quick' recorded as handled")
    pending = [p["update"].get("message", {}).get("text") for p in await tg.pending_updates()]
    assert pending == ["slow", "quick"]
    await first.kill()

    second = new_gateway(gateways, fake_telegram_server, tg, mongo_db)
    second.release_slow.set()
    answer = await tg.wait_for_bot_message(MARIA.id, timeout=15)
    assert answer.visible_text == "got slow (after after:quick)"
    await tg.send_text(MARIA, "next")
    answer = await tg.wait_for_bot_message(MARIA.id, timeout=15)
    assert answer.visible_text == "got next (after after:slow)"
    assert second.seen == ["slow", "next"]
    texts = [m.visible_text for m in await tg.bot_messages(MARIA.id)]
    assert texts == [
        "got quick (after None)",
        "got slow (after after:quick)",
        "got next (after after:slow)",
    ]


async def test_an_unreadable_update_is_confirmed_and_skipped(
    gateways: list[Gateway],
    fake_telegram_server: FakeTelegramServer,
    fake_telegram: FakeTelegramClient,
    mongo_db: AsyncDatabase[Document],
) -> None:
    """An update aiogram cannot read (here a message without its chat) neither stops polling
    nor comes back: the next message is answered, and nothing is left unconfirmed."""
    tg = fake_telegram
    gateway = new_gateway(gateways, fake_telegram_server, tg, mongo_db)
    await tg.inject_update({"message": {"message_id": 1, "date": 0, "text": "no chat"}})
    await tg.send_text(MARIA, "hello")
    assert (await tg.wait_for_bot_message(MARIA.id)).visible_text == "got hello (after None)"

    async def all_confirmed() -> bool:
        return await tg.pending_updates() == []

    await eventually(all_confirmed, what="the unreadable update confirmed too")
    assert gateway.seen == ["hello"]
