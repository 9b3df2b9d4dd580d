"""Every Bot API call passes here: pacing per chat and overall, 429 and 403 handling.

Installed as an aiogram request middleware, so handler replies, notifications and broadcasts all
share one budget. A 429 pauses that chat for `retry_after` and the call is tried again (a few
times, and only for waits a user would tolerate); a 403 (the user blocked the bot) is reported
once and never retried.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from helpdesk_gateway.domain.limiter import OutgoingLimiter, Sleep

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger("helpdesk.gateway.telegram")

OnBlocked = Callable[[int], Awaitable[None]]
_PACED_PREFIXES = ("send", "edit", "copy", "forward")
_UNPACED = frozenset({"sendChatAction"})


def paced_chat(method: TelegramMethod[Any]) -> int | None:
    """The chat a call writes a message to, if it counts against Telegram's message limits."""
    name = method.__api_method__
    if name in _UNPACED or not name.startswith(_PACED_PREFIXES):
        return None
    chat_id = getattr(method, "chat_id", None)
    return chat_id if isinstance(chat_id, int) else None


class OutgoingLimitMiddleware(BaseRequestMiddleware):
    def __init__(
        self,
        limiter: OutgoingLimiter,
        *,
        attempts: int,
        retry_after_max: float,
        on_blocked: OnBlocked,
        sleep: Sleep,
    ) -> None:
        self.limiter = limiter
        self.attempts = attempts
        self.retry_after_max = retry_after_max
        self.on_blocked = on_blocked
        self.sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        chat_id = paced_chat(method)
        attempt = 1
        while True:
            if chat_id is not None:
                await self.limiter.acquire(chat_id)
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                wait = float(exc.retry_after)
                if attempt >= self.attempts or wait > self.retry_after_max:
                    raise
                log.warning(
                    "telegram asked to slow down",
                    extra={
                        "method": method.__api_method__,
                        "retry_after": wait,
                        "attempt": attempt,
                    },
                )
                if chat_id is not None:
                    self.limiter.pause(chat_id, wait)
                else:
                    await self.sleep(wait)
                attempt += 1
            except TelegramForbiddenError:
                target = getattr(method, "chat_id", None)
                if isinstance(target, int):
                    log.info("user blocked the bot", extra={"chat_id": target})
                    await self.on_blocked(target)
                raise
