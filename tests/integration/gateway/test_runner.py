"""How the gateway meets Telegram: the command menu in both languages, and webhook mode."""

from __future__ import annotations

import aiohttp
import pytest
from helpdesk_harness.procs import free_port

from tests.integration.gateway.conftest import World, new_user
from tests.integration.gateway.test_resilience import text_update

pytestmark = pytest.mark.integration


async def test_the_command_menu_is_set_in_both_languages(world: World) -> None:
    russian = await world.tg.commands()
    english = await world.tg.commands(language_code="en")
    assert [c["command"] for c in russian] == ["new", "tickets", "help", "cancel", "start"]
    assert russian[0]["description"] == "Новая заявка"
    assert english[0]["description"] == "New ticket"


async def test_webhook_mode_accepts_only_telegram_s_secret(world: World) -> None:
    port = free_port()
    await world.stop()
    await world.start(
        mode="webhook",
        webhook_url="https://bot.example.com/telegram/hook",
        webhook_secret="s3cret-Token_1",
        webhook_host="127.0.0.1",
        webhook_port=port,
        webhook_path="/telegram/hook",
    )
    hook = await world.tg.webhook()
    assert hook is not None
    assert (hook["url"], hook["secret_token"]) == (
        "https://bot.example.com/telegram/hook",
        "s3cret-Token_1",
    )
    user = new_user()
    await world.tg.add_user(user)
    url = f"http://127.0.0.1:{port}/telegram/hook"
    async with aiohttp.ClientSession() as http:
        forged = text_update(user, 7001, 1, "/start")
        async with http.post(
            url, json=forged, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"}
        ) as response:
            assert response.status == 401
        real = text_update(user, 7002, 2, "/start")
        async with http.post(
            url, json=real, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token_1"}
        ) as response:
            assert response.status == 200
    welcome = await world.reply(user)
    assert welcome.visible_text.startswith("Здравствуйте! Это бот ИТ-поддержки.")
    await world.tg.assert_no_bot_message(user.id, within=0.5)
