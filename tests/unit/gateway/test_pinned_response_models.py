"""The model that parses a Bot API answer outlives a garbage collection once a request used it,
so answers are not parsed by a freshly built validator each time."""

from __future__ import annotations

import gc
import weakref
from typing import Any, cast

from aiogram import Bot
from aiogram.methods import Response, SendMediaGroup, TelegramMethod
from aiogram.types import InputMediaPhoto, Message
from helpdesk_gateway.bot.responses import PinnedResponseModels


async def answered(bot: Bot, method: TelegramMethod[Any]) -> Response[Any]:
    return Response[Any](ok=True, result=[])


def album() -> SendMediaGroup:
    return SendMediaGroup(chat_id=5, media=[InputMediaPhoto(media="photo-file-id")])


async def test_the_answer_model_survives_a_collection() -> None:
    pins = PinnedResponseModels()
    response = await pins(answered, cast(Bot, None), album())
    assert response.ok
    model = weakref.ref(Response[list[Message]])
    gc.collect()
    assert model() is not None
    assert Response[list[Message]] is pins.model_for(album())


def test_without_a_pin_pydantic_builds_the_model_again() -> None:
    """The reason for the middleware: pydantic holds parametrised models only weakly."""
    model = weakref.ref(Response[list[Message]])
    gc.collect()
    assert model() is None
