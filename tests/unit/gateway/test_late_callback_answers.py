"""A press handled again after a crash carries on when its callback query can no longer be
answered; any other refusal still fails the request."""

from __future__ import annotations

from typing import Any, cast

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery, Response, SendMessage, TelegramMethod
from helpdesk_gateway.bot.answers import LateCallbackAnswers

TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


def refusing(description: str) -> Any:
    async def make_request(bot: Bot, method: TelegramMethod[Any]) -> Response[Any]:
        raise TelegramBadRequest(method=method, message=description)

    return make_request


async def test_a_late_callback_answer_is_taken_as_done() -> None:
    answer = AnswerCallbackQuery(callback_query_id="q1")
    response = await LateCallbackAnswers()(refusing(TOO_OLD), cast(Bot, None), answer)
    assert response.ok and response.result is True


async def test_other_refusals_still_fail() -> None:
    middleware = LateCallbackAnswers()
    with pytest.raises(TelegramBadRequest):
        await middleware(
            refusing(TOO_OLD), cast(Bot, None), SendMessage(chat_id=5, text="Ticket TG-7F3A2C")
        )
    with pytest.raises(TelegramBadRequest):
        await middleware(
            refusing("Bad Request: message text is empty"),
            cast(Bot, None),
            AnswerCallbackQuery(callback_query_id="q1"),
        )
