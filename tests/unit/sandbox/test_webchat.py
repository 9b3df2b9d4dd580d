"""The web chat page API: what the page gets of the fake Bot API, and only for demo people."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from helpdesk_harness.fake_telegram import FakeTelegramClient, FakeTelegramServer
from helpdesk_sandbox.demo import DEMO_PEOPLE
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
