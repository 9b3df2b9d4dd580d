"""Last resort: old or foreign buttons get a polite answer; stray messages a pointer."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message

from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.context import GatewayContext
from helpdesk_gateway.domain.tickets import RATABLE, TicketRecord
from helpdesk_gateway.i18n import Texts
from helpdesk_gateway.keyboards import menu
from helpdesk_gateway.keyboards.tickets import stars
from helpdesk_gateway.views import ticket_label

RECENT_FOR_RATING = 3
"""How many of the newest tickets are looked at for a rating the employee still owes."""


async def _awaiting_rating(ctx: GatewayContext, user_id: int) -> TicketRecord | None:
    for ticket in await ctx.tickets.recent(user_id, RECENT_FOR_RATING):
        if ticket.status in RATABLE and ticket.rating.value is None:
            return ticket
    return None


async def stale_button(query: CallbackQuery, t: Texts) -> None:
    """Any button nothing else took (an old message, an older bot version)."""
    await query.answer(t("button-stale"))


async def anything(message: Message, t: Texts, user: GatewayUser, ctx: GatewayContext) -> None:
    """A message outside any flow: the stars of a ticket waiting for its rating, the
    menu, or how to sign in."""
    if user.authorized:
        waiting = await _awaiting_rating(ctx, user.telegram_user_id)
        if waiting is not None:
            # "5" typed at the stars: point at them rather than at the menu.
            await message.answer(
                t("rating-use-stars", ticket=ticket_label(t, waiting)),
                reply_markup=stars(t, waiting.id),
            )
            return
        await message.answer(t("menu-hint"), reply_markup=menu.main_menu(t))
    else:
        await message.answer(t("sign-in-hint"))


def router() -> Router:
    r = Router(name="fallback")
    r.callback_query.register(stale_button)
    r.message.register(anything)
    return r
