"""Errors while handling an update: a blocked user is expected; anything else is logged and the
user is told that something went wrong instead of being left waiting."""

from __future__ import annotations

import contextlib
import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import CallbackQuery, ErrorEvent, Message

from helpdesk_gateway.context import GatewayContext
from helpdesk_gateway.i18n import pick_locale

log = logging.getLogger("helpdesk.gateway.errors")


def router() -> Router:
    r = Router(name="errors")

    @r.errors(ExceptionTypeFilter(TelegramForbiddenError))
    async def blocked(event: ErrorEvent) -> bool:
        """The user blocked the bot mid-conversation; the limiter already recorded it."""
        return True

    @r.errors()
    async def unexpected(event: ErrorEvent, bot: Bot, ctx: GatewayContext) -> bool:
        """A bug or an outage: logged with the update id, the user gets an apology."""
        log.error(
            "update failed",
            exc_info=event.exception,
            extra={"update_id": event.update.update_id},
        )
        inner = event.update.event
        if isinstance(inner, Message | CallbackQuery) and inner.from_user is not None:
            t = ctx.i18n.texts(pick_locale(inner.from_user.language_code))
            with contextlib.suppress(TelegramAPIError):
                if isinstance(inner, CallbackQuery):
                    await inner.answer()
                await bot.send_message(inner.from_user.id, t("something-went-wrong"))
        return True

    return r
