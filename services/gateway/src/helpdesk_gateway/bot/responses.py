"""Keep aiogram's answer models alive, so each Bot API answer is parsed by a ready validator.

aiogram parses every Bot API answer with `Response[method.__returning__]`. pydantic caches a
parametrised generic model only weakly: once nothing else refers to it, the cyclic garbage
collector frees it, and the next answer of that kind builds the model class and its validator
again. Under load that rebuild was about a tenth of the gateway's CPU (py-spy during
`make bench`). This request middleware holds one strong reference per method type, so every
later `Response[...]` is a cache hit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

if TYPE_CHECKING:
    from aiogram import Bot


class PinnedResponseModels(BaseRequestMiddleware):
    def __init__(self) -> None:
        self._models: dict[type[TelegramMethod[Any]], type[Response[Any]]] = {}

    def model_for(self, method: TelegramMethod[Any]) -> type[Response[Any]]:
        kind = type(method)
        model = self._models.get(kind)
        if model is None:
            model = self._models[kind] = Response[method.__returning__]  # type: ignore[name-defined]
        return model

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        self.model_for(method)
        return await make_request(bot, method)
