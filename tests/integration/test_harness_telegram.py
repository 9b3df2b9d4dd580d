"""The fake Telegram Bot API: a real aiogram 3 bot runs against it unmodified.

The bot under test here is a tiny one defined below; what is checked is what its user would see.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import signal
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ChatAction, ParseMode
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)
from helpdesk_harness.fake_telegram import (
    FakeTelegramClient,
    FakeTelegramError,
    FakeTelegramServer,
    User,
)
from helpdesk_harness.procs import ServerProcess, free_port, wait_for_port
from PIL import Image

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
ANNA = User(id=1001, first_name="Анна", username="anna")
BORIS = User(id=1002, first_name="Boris", language_code="en")


def png(width: int = 320, height: int = 240, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def make_bot(base_url: str, token: str) -> Bot:
    return Bot(
        token,
        session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def demo_router() -> Router:
    router = Router()

    @router.message(Command("menu"))
    async def menu(message: Message) -> None:
        """/menu -> a question with two inline buttons."""
        buttons = [
            InlineKeyboardButton(text="Да", callback_data="answer:yes"),
            InlineKeyboardButton(text="Нет", callback_data="answer:no"),
        ]
        await message.answer(
            "<b>Продолжить?</b>", reply_markup=InlineKeyboardMarkup(inline_keyboard=[buttons])
        )

    @router.message(Command("album"))
    async def album(message: Message) -> None:
        """/album -> two photos sent as one media group."""
        await message.answer_media_group(
            [
                InputMediaPhoto(media=BufferedInputFile(png(color=(0, 0, 255)), "blue.png")),
                InputMediaPhoto(media=BufferedInputFile(png(color=(0, 255, 0)), "green.png")),
            ]
        )

    @router.callback_query(F.data.startswith("answer:"))
    async def answered(query: CallbackQuery) -> None:
        """An answer button -> a toast, and the question is replaced by the choice."""
        assert isinstance(query.message, Message)
        assert query.data is not None
        await query.answer("Принято")
        await query.message.edit_text(f"Вы выбрали: {query.data.removeprefix('answer:')}")

    @router.message(F.photo)
    async def photo(message: Message, bot: Bot) -> None:
        """A photo -> its size as downloaded; the photo itself back if the caption says so."""
        assert message.photo is not None
        downloaded = await bot.download(message.photo[-1])
        assert downloaded is not None
        content = downloaded.read()
        group = f", альбом {message.media_group_id}" if message.media_group_id else ""
        await message.answer(f"Фото {len(content)} байт{group}")
        if message.caption == "верни":
            await message.answer_photo(BufferedInputFile(content, "back.png"), caption="Ваше фото")

    @router.message(F.document)
    async def document(message: Message, bot: Bot) -> None:
        """A document -> its name, type and downloaded size."""
        assert message.document is not None
        downloaded = await bot.download(message.document)
        assert downloaded is not None
        doc = message.document
        await message.answer(f"Файл {doc.file_name} ({doc.mime_type}): {len(downloaded.read())}")

    @router.message(F.sticker)
    async def sticker(message: Message) -> None:
        """A sticker -> its emoji."""
        assert message.sticker is not None
        await message.answer(f"Стикер {message.sticker.emoji}")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        """Any other text -> echoed."""
        await message.answer(f"Эхо: {message.text}")

    return router


@contextlib.asynccontextmanager
async def polling_bot(base_url: str, token: str) -> AsyncIterator[Bot]:
    """The demo bot, long polling the fake exactly as in production, until the block ends."""
    bot = make_bot(base_url, token)
    dispatcher = Dispatcher()
    dispatcher.include_router(demo_router())
    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False))
    try:
        yield bot
    finally:
        if not polling.done():
            await dispatcher.stop_polling()
        await polling


async def wait_until_confirmed(tg: FakeTelegramClient, seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while await tg.pending_updates():
        assert time.monotonic() < deadline, "the bot never confirmed its updates"
        await asyncio.sleep(0.05)


async def test_user_sees_echo_buttons_and_the_edit_after_a_press(
    fake_telegram: FakeTelegramClient, fake_telegram_server: FakeTelegramServer
) -> None:
    tg = fake_telegram
    async with polling_bot(fake_telegram_server.base_url, tg.token):
        sent = await tg.send_text(ANNA, "привет")
        echo = await tg.wait_for_bot_message(ANNA.id)
        assert echo.visible_text == "Эхо: привет"
        assert echo.message_id > sent.message_id

        await tg.send_command(ANNA, "menu")
        menu = await tg.wait_for_bot_message(ANNA.id)
        assert menu.visible_text == "Продолжить?"
        assert menu.text == "<b>Продолжить?</b>"
        assert menu.button_rows == [["Да", "Нет"]]

        press = await tg.press_button(ANNA, menu.message_id, menu.callback_data("Да"))
        edited = await tg.wait_for_edit(ANNA.id, menu.message_id)
        assert edited.visible_text == "Вы выбрали: yes"
        assert edited.button_rows == []  # an edit without reply_markup removes the keyboard
        answer = await tg.callback_answer(press.callback_query_id)
        assert answer is not None
        assert answer["text"] == "Принято"
        with pytest.raises(FakeTelegramError, match="no button"):  # the keyboard is gone
            await tg.press_button(ANNA, menu.message_id, "answer:no")
        await wait_until_confirmed(tg)

    polls = await tg.calls("getUpdates")
    # Long polling, not spinning: every poll asked the server to wait, and there were few.
    assert polls
    assert all(call.params.get("timeout") == 10 for call in polls)
    assert len(polls) <= 8
    shown = [m.visible_text for m in await tg.bot_messages(ANNA.id)]
    assert shown == ["Эхо: привет", "Вы выбрали: yes"]


async def test_photos_documents_and_albums_travel_both_ways(
    fake_telegram: FakeTelegramClient, fake_telegram_server: FakeTelegramServer
) -> None:
    tg = fake_telegram
    image = png(640, 480)
    async with polling_bot(fake_telegram_server.base_url, tg.token):
        sent = await tg.send_photo(ANNA, image, caption="верни")
        size_reply = await tg.wait_for_bot_message(ANNA.id)
        assert size_reply.visible_text == f"Фото {len(image)} байт"
        back = await tg.wait_for_bot_message(ANNA.id)
        assert back.kind == "photo"
        assert back.photo == image
        assert back.visible_text == "Ваше фото"

        album = [png(color=(10 * i, 0, 0)) for i in range(3)]
        parts = await tg.send_album(ANNA, album, caption="три")
        group = parts[0].media_group_id
        assert group is not None
        assert {part.media_group_id for part in parts} == {group}
        replies = {(await tg.wait_for_bot_message(ANNA.id)).visible_text for _ in album}
        assert replies == {f"Фото {len(data)} байт, альбом {group}" for data in album}

        report = "отчёт: принтер не печатает\n".encode()
        await tg.send_document(ANNA, report, "отчёт.txt", "text/plain")
        doc_reply = await tg.wait_for_bot_message(ANNA.id)
        assert doc_reply.visible_text == f"Файл отчёт.txt (text/plain): {len(report)}"

        await tg.send_sticker(ANNA, "🔥")
        assert (await tg.wait_for_bot_message(ANNA.id)).visible_text == "Стикер 🔥"

        await tg.send_command(ANNA, "album")
        first = await tg.wait_for_bot_message(ANNA.id)
        second = await tg.wait_for_bot_message(ANNA.id)
        assert (first.kind, second.kind) == ("photo", "photo")
        assert first.media_group_id is not None
        assert first.media_group_id == second.media_group_id
        assert first.photo == png(color=(0, 0, 255))
        assert second.photo == png(color=(0, 255, 0))

    # The user's photo is listed like Telegram lists it: a thumbnail first, the original last.
    user_photo = next(m for m in await tg.history(ANNA.id) if m.message_id == sent.message_id)
    assert user_photo.media is not None
    largest = user_photo.media["photo"][-1]
    assert (largest["width"], largest["height"], largest["file_size"]) == (640, 480, len(image))
    thumb = user_photo.media["photo"][0]
    assert max(thumb["width"], thumb["height"]) == 90
    file_calls = await tg.calls("getFile")
    assert file_calls[0].params["file_id"] == sent.file_id


async def test_a_redelivered_update_reaches_the_bot_twice(
    fake_telegram: FakeTelegramClient, fake_telegram_server: FakeTelegramServer
) -> None:
    tg = fake_telegram
    await tg.add_user(BORIS)
    update = {
        "update_id": 777,
        "message": {
            "message_id": 50,
            "date": int(time.time()),
            "chat": {"id": BORIS.id, "type": "private", "first_name": BORIS.first_name},
            "from": BORIS.to_api(),
            "text": "дубль",
        },
    }
    async with polling_bot(fake_telegram_server.base_url, tg.token):
        assert await tg.inject_update(update) == 777
        await tg.wait_for_bot_message(BORIS.id)
        assert await tg.inject_update(update) == 777
        await tg.wait_for_bot_message(BORIS.id)
        await wait_until_confirmed(tg)
        await tg.assert_no_bot_message(BORIS.id, within=0.3)
    assert [m.visible_text for m in await tg.bot_messages(BORIS.id)] == ["Эхо: дубль"] * 2


async def test_get_updates_waits_and_confirms_by_offset(
    fake_telegram: FakeTelegramClient, fake_telegram_server: FakeTelegramServer
) -> None:
    tg = fake_telegram
    async with make_bot(fake_telegram_server.base_url, tg.token) as bot:
        started = time.monotonic()
        assert await bot.get_updates(timeout=1) == []
        assert time.monotonic() - started >= 0.9

        poll = asyncio.create_task(bot.get_updates(timeout=10))
        await asyncio.sleep(0.1)
        sent = await tg.send_text(ANNA, "ping")
        updates = await asyncio.wait_for(poll, timeout=2)
        assert [u.update_id for u in updates] == [sent.update_id]
        assert updates[0].message is not None
        assert updates[0].message.text == "ping"

        # Unconfirmed updates come again; an offset past them confirms them.
        assert [u.update_id for u in await bot.get_updates()] == [sent.update_id]
        assert await bot.get_updates(offset=sent.update_id + 1) == []
        assert await tg.pending_updates() == []

        # A second poller ends the first with 409, as two bot instances would.
        first = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.1)
        await bot.get_updates()
        with pytest.raises(TelegramConflictError):
            await asyncio.wait_for(first, timeout=2)


async def test_faults_and_refusals_reach_aiogram_as_telegram_errors(
    fake_telegram: FakeTelegramClient, fake_telegram_server: FakeTelegramServer
) -> None:
    tg = fake_telegram
    base_url = fake_telegram_server.base_url
    await tg.add_user(ANNA)
    async with make_bot(base_url, tg.token) as bot:
        await tg.fail_next("sendMessage", 429, retry_after=3)
        with pytest.raises(TelegramRetryAfter) as too_many:
            await bot.send_message(ANNA.id, "раз")
        assert too_many.value.retry_after == 3
        kept = await bot.send_message(ANNA.id, "два")  # the fault was for one call only

        await tg.block_chat(ANNA.id)
        with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
            await bot.send_message(ANNA.id, "три")
        await tg.unblock_chat(ANNA.id)

        with pytest.raises(TelegramBadRequest, match="can't parse entities"):
            await bot.send_message(ANNA.id, "строка<br>строка", parse_mode="HTML")
        with pytest.raises(TelegramBadRequest, match="message is not modified"):
            await bot.edit_message_text("два", chat_id=ANNA.id, message_id=kept.message_id)
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await bot.send_message(424242, "кому?")

    async with make_bot(base_url, "123:wrong-token") as stranger:
        with pytest.raises(TelegramUnauthorizedError):
            await stranger.get_me()

    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{base_url}/bot{tg.token}/sendTelepathy", json={"chat_id": 1}) as response,
    ):
        assert response.status == 404
        assert await response.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found: method not found",
        }

    assert [m.visible_text for m in await tg.bot_messages(ANNA.id)] == ["два"]
    sends = await tg.calls("sendMessage")
    assert [call.error_code for call in sends] == [429, None, 403, 400, 400]
    assert [call.params["text"] for call in sends][:2] == ["раз", "два"]
    assert [call.ok for call in await tg.calls("sendTelepathy")] == [False]


async def test_the_other_methods_a_bot_uses_round_trip_through_aiogram(
    fake_telegram: FakeTelegramClient, fake_telegram_server: FakeTelegramServer
) -> None:
    tg = fake_telegram
    photo = await tg.send_photo(ANNA, png(), caption="сломалось")
    assert photo.file_id is not None
    async with make_bot(fake_telegram_server.base_url, tg.token) as bot:
        keyboard = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Новая заявка")]])
        asked = await bot.send_message(
            ANNA.id,
            "Что делаем?",
            reply_markup=keyboard,
            reply_parameters=ReplyParameters(message_id=photo.message_id),
        )
        assert asked.reply_to_message is not None
        assert asked.reply_to_message.message_id == photo.message_id
        assert await tg.reply_keyboard(ANNA.id) == {"keyboard": [[{"text": "Новая заявка"}]]}
        await bot.send_message(ANNA.id, "Ок", reply_markup=ReplyKeyboardRemove())
        assert await tg.reply_keyboard(ANNA.id) is None

        # The user's photo can be sent back by file_id and fetched with getFile.
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Удалить", callback_data="drop")]]
        )
        echoed = await bot.send_photo(ANNA.id, photo.file_id, caption="Фото 1", reply_markup=markup)
        assert echoed.photo is not None
        assert echoed.photo[-1].file_id == photo.file_id
        file = await bot.get_file(photo.file_id)
        assert file.file_size == len(png())
        edited = await bot.edit_message_caption(
            chat_id=ANNA.id,
            message_id=echoed.message_id,
            caption="Фото 1 (готово)",
            reply_markup=markup,  # every edit* without reply_markup drops the inline keyboard
        )
        assert isinstance(edited, Message)
        assert edited.caption == "Фото 1 (готово)"
        assert (await tg.bot_messages(ANNA.id))[-1].button_texts == ["Удалить"]
        await bot.edit_message_reply_markup(chat_id=ANNA.id, message_id=echoed.message_id)
        shown = await tg.bot_messages(ANNA.id)
        assert [(m.visible_text, m.button_texts) for m in shown][-1] == ("Фото 1 (готово)", [])
        assert [e["method"] for e in shown[-1].edits] == [
            "editMessageCaption",
            "editMessageReplyMarkup",
        ]

        assert await bot.delete_message(ANNA.id, asked.message_id) is True
        assert asked.message_id not in [m.message_id for m in await tg.bot_messages(ANNA.id)]
        every = await tg.bot_messages(ANNA.id, include_deleted=True)
        assert [m.deleted for m in every if m.message_id == asked.message_id] == [True]

        await bot.send_chat_action(ANNA.id, ChatAction.UPLOAD_PHOTO)
        assert await tg.chat_actions(ANNA.id) == ["upload_photo"]

        commands = [BotCommand(command="new", description="Новая заявка")]
        await bot.set_my_commands(commands, language_code="ru")
        listed = await bot.get_my_commands(language_code="ru")
        assert [(c.command, c.description) for c in listed] == [("new", "Новая заявка")]
        assert await tg.commands(language_code="ru") == [
            {"command": "new", "description": "Новая заявка"}
        ]
        await bot.delete_my_commands(language_code="ru")
        assert await bot.get_my_commands(language_code="ru") == []

        await bot.set_webhook("https://bot.example/hook")
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()
        assert await bot.delete_webhook(drop_pending_updates=True) is True
        assert await bot.get_updates() == []
        assert await bot.log_out() is True
        assert await bot.close() is True


def test_in_process_server_starts_and_stops_without_an_event_loop() -> None:
    with FakeTelegramServer(bot_username="sync_bot") as server:
        url = f"{server.base_url}/bot{server.token}/getMe"
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own server
            me = json.load(response)
    assert me["ok"] is True
    assert me["result"]["is_bot"] is True
    assert me["result"]["username"] == "sync_bot"
    assert me["result"]["id"] == server.bot_id


async def test_process_mode_serves_the_same_api(tmp_path: Path) -> None:
    port = free_port()
    process = ServerProcess(
        [sys.executable, "-m", "helpdesk_harness.fake_telegram", "--port", str(port)],
        log_path=tmp_path / "fake_telegram.log",
        cwd=REPO_ROOT,
    )
    process.start()
    try:
        await asyncio.to_thread(wait_for_port, port)
        async with FakeTelegramClient(f"http://127.0.0.1:{port}") as tg:
            async with polling_bot(tg.base_url, tg.token):
                await tg.send_text(BORIS, "из процесса")
                reply = await tg.wait_for_bot_message(BORIS.id)
                assert reply.visible_text == "Эхо: из процесса"
            announced = json.loads(process.log_text().splitlines()[0])
            assert announced == {"base_url": f"http://127.0.0.1:{port}", "token": tg.token}
    finally:
        exit_code = process.stop(sig=signal.SIGTERM)
    assert exit_code == 0, process.log_text()
