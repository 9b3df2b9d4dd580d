"""The web chat page API: what the page gets of the fake Bot API, and only for demo people."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from helpdesk_harness.fake_telegram import FakeTelegramClient, FakeTelegramServer
from helpdesk_sandbox.console import ConsoleSimulator
from helpdesk_sandbox.console import create_app as console_app
from helpdesk_sandbox.demo import DEMO_PEOPLE
from helpdesk_sandbox.imsim import SimConfig
from helpdesk_sandbox.webchat.server import chat_view, create_app, keyboard_view

Page = tuple[TestClient[web.Request, web.Application], str]


def test_chat_view_keeps_what_the_page_shows() -> None:
    raw = {
        "message_id": 7,
        "from_bot": True,
        "kind": "photo",
        "visible_text": "Фото 1",
        "text": "<b>Фото</b> 1",
        "file_id": "AgAC1",
        "data_b64": "AAAA",
        "reply_markup": {
            "inline_keyboard": [
                [{"text": "5 ⭐", "callback_data": "r1:x:5"}, {"text": "Сайт", "url": "https://x"}]
            ]
        },
        "edits": [{"method": "editMessageReplyMarkup"}, {"method": "editMessageCaption"}],
    }
    assert chat_view(raw) == {
        "id": 7,
        "from_bot": True,
        "kind": "photo",
        "text": "Фото 1",
        "file_id": "AgAC1",
        "file_name": None,
        "inline": [[{"text": "5 ⭐", "data": "r1:x:5"}, {"text": "Сайт", "url": "https://x"}]],
        "edited": True,
    }
    buttons_gone = {**raw, "edits": [{"method": "editMessageReplyMarkup"}]}
    assert chat_view(buttons_gone)["edited"] is False
    assert keyboard_view({"keyboard": [[{"text": "📝 Новая заявка"}], ["❓ Помощь"]]}) == [
        ["📝 Новая заявка"],
        ["❓ Помощь"],
    ]
    assert keyboard_view(None) == []


@pytest_asyncio.fixture
async def page(tmp_path: Path) -> AsyncIterator[Page]:
    with FakeTelegramServer() as telegram:
        async with TestClient(TestServer(create_app(telegram.base_url, tmp_path))) as client:
            yield client, telegram.base_url


async def test_page_and_people(page: Page) -> None:
    client, _ = page
    async with client.get("/") as response:
        html = await response.text()
    assert response.status == 200
    assert "<script>" in html
    assert "http://" not in html.replace("http://www.w3.org", "")  # nothing from a CDN
    async with client.get("/api/people") as response:
        people = await response.json()
    assert [p["email"] for p in people] == [p.email for p in DEMO_PEOPLE]


async def test_text_reaches_the_fake_as_the_employee(
    page: Page,
) -> None:
    client, base_url = page
    person = DEMO_PEOPLE[0]
    async with client.post(f"/api/chat/{person.telegram.id}/text", json={"text": "/start"}):
        pass
    async with client.post(f"/api/chat/{person.telegram.id}/text", json={"text": "привет"}):
        pass
    async with client.get(f"/api/chat/{person.telegram.id}") as response:
        chat = await response.json()
    assert [(m["from_bot"], m["text"]) for m in chat["messages"]] == [
        (False, "/start"),
        (False, "привет"),
    ]
    async with FakeTelegramClient(base_url) as tg:
        updates = [p["update"] for p in await tg.pending_updates()]
    first = updates[0]["message"]
    assert first["from"]["id"] == person.telegram.id
    assert first["entities"][0]["type"] == "bot_command"


async def test_only_demo_people_can_be_played(page: Page) -> None:
    client, _ = page
    async with client.post("/api/chat/42/text", json={"text": "hi"}) as response:
        assert response.status == 404
    async with client.get("/api/mailbox/42") as response:
        assert response.status == 404


@pytest_asyncio.fixture
async def bot_page(tmp_path: Path) -> AsyncIterator[tuple[Page, FakeTelegramServer]]:
    with FakeTelegramServer() as telegram:
        async with TestClient(TestServer(create_app(telegram.base_url, tmp_path))) as client:
            yield (client, telegram.base_url), telegram


async def test_a_press_returns_the_bots_answer_for_a_toast(
    bot_page: tuple[Page, FakeTelegramServer],
) -> None:
    (client, base_url), telegram = bot_page
    person = DEMO_PEOPLE[0]
    bot_api = f"{base_url}/bot{telegram.token}"
    async with FakeTelegramClient(base_url) as tg, aiohttp.ClientSession() as http:
        await tg.add_user(person.telegram)
        markup = {"inline_keyboard": [[{"text": "Готово", "callback_data": "w1:done"}]]}
        async with http.post(
            f"{bot_api}/sendMessage",
            json={"chat_id": person.telegram.id, "text": "Фото?", "reply_markup": markup},
        ) as sent:
            message_id = (await sent.json())["result"]["message_id"]

        async def bot_answers() -> None:
            async with asyncio.timeout(5):
                while True:
                    pending = [p["update"] for p in await tg.pending_updates()]
                    queries = [u["callback_query"] for u in pending if "callback_query" in u]
                    if queries:
                        break
                    await asyncio.sleep(0.05)
            answer = {"callback_query_id": queries[0]["id"], "text": "Эта кнопка уже не действует."}
            async with http.post(f"{bot_api}/answerCallbackQuery", json=answer) as answered:
                assert (await answered.json())["ok"] is True

        answering = asyncio.create_task(bot_answers())
        async with client.post(
            f"/api/chat/{person.telegram.id}/button",
            json={"message_id": message_id, "callback_data": "w1:done"},
        ) as response:
            pressed = await response.json()
        await answering
    assert pressed["answer"] == {"text": "Эта кнопка уже не действует.", "alert": False}


async def test_photos_carry_the_caption_typed_with_them(page: Page) -> None:
    client, base_url = page
    person = DEMO_PEOPLE[0]
    form = aiohttp.FormData()
    form.add_field("photo", b"\xff\xd8\xff\xe0fake", filename="a.jpg", content_type="image/jpeg")
    form.add_field("caption", "Лампа мигает")
    async with client.post(f"/api/chat/{person.telegram.id}/photos", data=form) as response:
        assert response.status == 200
    async with FakeTelegramClient(base_url) as tg:
        (update,) = [p["update"] for p in await tg.pending_updates()]
    assert update["message"]["caption"] == "Лампа мигает"


async def test_the_console_is_passed_on_and_absent_without_a_simulator(
    page: Page, tmp_path: Path
) -> None:
    client, base_url = page
    async with client.get("/api/console/tickets") as response:
        assert response.status == 404
        assert "without the InfraManager simulator" in await response.text()

    spool, maildir = tmp_path / "spool", tmp_path / "Maildir"
    spool.mkdir()
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True)
    simulator = ConsoleSimulator(SimConfig(spool=spool, maildir=maildir), mode="manual")
    async with TestClient(TestServer(console_app(simulator))) as console:
        url = str(console.make_url("/"))
        webchat = create_app(base_url, tmp_path, url)
        async with TestClient(TestServer(webchat)) as with_console:
            async with with_console.get("/api/console/tickets") as response:
                assert await response.json() == {"mode": "manual", "tickets": []}
            async with with_console.post("/api/console/mode", json={"mode": "auto"}) as response:
                assert await response.json() == {"mode": "auto"}
    assert simulator.mode == "auto"
