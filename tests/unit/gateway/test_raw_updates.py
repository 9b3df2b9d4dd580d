"""Polling reads update ids from the raw JSON and builds only the updates it takes; a built
update is the one aiogram's own getUpdates would give, bound to the bot."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.methods import GetUpdates
from aiogram.types import Update
from helpdesk_gateway.bot.raw_updates import GetRawUpdates, build, update_id

RAW: dict[str, Any] = {
    "update_id": 900_001,
    "message": {
        "message_id": 5,
        "date": 1_796_000_000,
        "chat": {"id": 5_100_000_001, "type": "private", "first_name": "Мария"},
        "from": {"id": 5_100_000_001, "is_bot": False, "first_name": "Мария"},
        "text": "/new",
        "entities": [{"type": "bot_command", "offset": 0, "length": 4}],
    },
}


def test_the_id_is_read_without_building_the_update() -> None:
    assert update_id(RAW) == 900_001
    assert update_id({"message": {}}) is None
    assert update_id({"update_id": "900001"}) is None
    assert update_id({"update_id": True}) is None


def test_a_built_update_is_aiograms_own_and_bound_to_the_bot() -> None:
    bot = Bot("42:TEST")
    update = build(RAW, bot)
    assert update.model_dump() == Update.model_validate(RAW).model_dump()
    assert update.message is not None and update.message.text == "/new"
    assert update.message.bot is bot


def test_the_request_is_getupdates_with_its_parameters() -> None:
    raw = GetRawUpdates(offset=7, timeout=30, allowed_updates=["message"])
    assert raw.__api_method__ == GetUpdates.__api_method__
    assert raw.model_dump(exclude_none=True) == GetUpdates(
        offset=7, timeout=30, allowed_updates=["message"]
    ).model_dump(exclude_none=True)
