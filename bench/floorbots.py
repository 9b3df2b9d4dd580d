"""The floor bots the helpdesk is compared with, each run as its own process like the gateway.

- `echo`: a bare aiogram bot that answers every message and every button press with one
  message carrying one button (aiogram's default in-memory FSM storage).
- `fsm`: the same, plus aiogram's `PyMongoStorage` on the benchmark's MongoDB server, making
  `--round-trips` FSM storage round trips per update on average — the number the gateway made
  per update in the same run (aiogram's FSM middleware makes the first: it reads the state).

`python -m bench.floorbots echo --api URL --token T` prints `floor bot polling` once it polls;
SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Sequence
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.pymongo import PyMongoStorage
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from pymongo import AsyncMongoClient

FSM_COLLECTION = "bench_fsm"
BUTTON = "next"
KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="Next", callback_data=BUTTON)]]
)


class StorageWork:
    """Spreads `round_trips` per update (a mean, maybe fractional) over the updates."""

    def __init__(self, round_trips: float) -> None:
        self.round_trips = round_trips
        self.updates = 0
        self.done = 0

    async def __call__(self, state: FSMContext) -> None:
        self.updates += 1
        # Reserved before awaiting anything: updates are handled concurrently.
        owed = max(0, round(self.updates * self.round_trips) - self.done - 1)
        self.done += 1 + owed  # the middleware's get_state, and ours
        for step in range(owed):
            match step % 4:
                case 0:
                    await state.get_data()
                case 1:
                    await state.set_data({"step": self.updates})
                case 2:
                    await state.set_state("bench:step")
                case _:
                    await state.get_state()


def build(storage: BaseStorage, work: StorageWork | None) -> Dispatcher:
    dp = Dispatcher(storage=storage)

    @dp.message()
    async def on_message(message: Message, state: FSMContext) -> None:
        if work is not None:
            await work(state)
        await message.answer(message.text or message.caption or "photo", reply_markup=KEYBOARD)

    @dp.callback_query()
    async def on_press(query: CallbackQuery, state: FSMContext, bot: Bot) -> None:
        if work is not None:
            await work(state)
        await query.answer()
        await bot.send_message(query.from_user.id, "pressed", reply_markup=KEYBOARD)

    return dp


async def run(args: argparse.Namespace) -> None:
    bot = Bot(args.token, session=AiohttpSession(api=TelegramAPIServer.from_base(args.api)))
    client: AsyncMongoClient[Any] | None = None
    work: StorageWork | None = None
    storage: BaseStorage
    if args.kind == "fsm":
        client = AsyncMongoClient(args.mongo_url)
        storage = PyMongoStorage(client, db_name=args.mongo_db, collection_name=FSM_COLLECTION)
        work = StorageWork(args.round_trips)
    else:
        storage = MemoryStorage()
    dp = build(storage, work)
    await bot.get_me()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(dp.stop_polling()))
    print("floor bot polling", flush=True)
    try:
        await dp.start_polling(bot, handle_signals=False, polling_timeout=10)
    finally:
        await bot.session.close()
        if client is not None:
            await client.drop_database(args.mongo_db)
            await client.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.floorbots")
    parser.add_argument("kind", choices=("echo", "fsm"))
    parser.add_argument("--api", required=True, help="Bot API base URL")
    parser.add_argument("--token", required=True)
    parser.add_argument("--mongo-url", default="")
    parser.add_argument("--mongo-db", default="bench_floor")
    parser.add_argument("--round-trips", type=float, default=1.0)
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
