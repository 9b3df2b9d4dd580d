"""Last resort: old or foreign buttons get a polite answer; stray messages a pointer."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message

from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.i18n import I18n, Texts
from helpdesk_gateway.keyboards import menu


def router(i18n: I18n) -> Router:
    del i18n
    r = Router(name="fallback")

    @r.callback_query()
    async def stale_button(query: CallbackQuery, t: Texts) -> None:
        """Any button nothing else took (an old message, an older bot version)."""
        await query.answer(t("button-stale"))

    @r.message()
    async def anything(message: Message, t: Texts, user: GatewayUser) -> None:
        """A message outside any flow: the menu, or how to sign in."""
        if user.authorized:
            await message.answer(t("menu-hint"), reply_markup=menu.main_menu(t))
        else:
            await message.answer(t("sign-in-hint"))

    return r
