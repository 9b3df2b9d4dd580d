"""getUpdates answered as plain JSON objects, so polling builds only the updates it takes.

Polling confirms an update only once it was handled (bot/window.py), so every getUpdates answer
repeats the updates still being handled; under load that is up to a hundred updates per answer,
and building each as an aiogram `Update` was the gateway's largest single cost (a fifth of its
CPU in `make bench`). Reading the ids from the raw objects and building only the new ones gives
the handlers the same `Update` that aiogram's own `GetUpdates` would.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.methods import TelegramMethod
from aiogram.types import Update

RawUpdate = dict[str, Any]


class GetRawUpdates(TelegramMethod[list[RawUpdate]]):
    """The Bot API's getUpdates (same parameters), its updates left as JSON objects."""

    __returning__ = list[RawUpdate]
    __api_method__ = "getUpdates"

    offset: int | None = None
    limit: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


def update_id(raw: RawUpdate) -> int | None:
    value = raw.get("update_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def build(raw: RawUpdate, bot: Bot) -> Update:
    """The aiogram `Update`, bound to the bot as aiogram binds the ones it builds."""
    return Update.model_validate(raw, context={"bot": bot})
