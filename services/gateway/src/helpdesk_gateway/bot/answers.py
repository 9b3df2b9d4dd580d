"""Callback answers that come too late are not an error.

A button press handled again after a crash (updates are handled at least once) finds its
callback query already answered, or too old to answer. The answer only stops the button's
spinner or shows a toast; failing the whole update for it would lose what the press must do
(a ticket's confirmation, the next wizard step).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery, Response, TelegramMethod
from aiogram.methods.base import TelegramType

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger("helpdesk.gateway.telegram")

_EXPIRED = ("query is too old", "query id is invalid")


class LateCallbackAnswers(BaseRequestMiddleware):
    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as exc:
            late = any(text in exc.message.lower() for text in _EXPIRED)
            if not (isinstance(method, AnswerCallbackQuery) and late):
                raise
            log.info("callback query answered too late; carrying on", extra={"reason": exc.message})
            return Response[TelegramType](ok=True, result=cast(TelegramType, True))
