"""My tickets: the last ones with reference, InfraManager number, status and date; a detail view."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.bot.middlewares import RequireAuthorized
from helpdesk_gateway.callbacks import TicketsAction, TicketsCb
from helpdesk_gateway.context import GatewayContext
from helpdesk_gateway.domain.tickets import TicketRecord
from helpdesk_gateway.handlers.filters import Label, OwnedTicket
from helpdesk_gateway.i18n import Texts
from helpdesk_gateway.keyboards import tickets as keyboards
from helpdesk_gateway.keyboards.conversation import ticket_actions
from helpdesk_gateway.views import ticket_detail_text, ticket_list_text


async def _list(
    ctx: GatewayContext, user: GatewayUser, t: Texts
) -> tuple[str, InlineKeyboardMarkup | None]:
    recent = await ctx.tickets.recent(user.telegram_user_id, ctx.settings.my_tickets_limit)
    if not recent:
        return t("tickets-empty"), None
    text = ticket_list_text(t, recent, ctx.catalogue.current, ctx.timezone)
    return text, keyboards.ticket_list(recent)


async def list_tickets(message: Message, t: Texts, ctx: GatewayContext, user: GatewayUser) -> None:
    """'My tickets' (button or /tickets): the latest tickets, each with a button."""
    text, markup = await _list(ctx, user, t)
    await message.answer(text, reply_markup=markup)


async def open_ticket(
    query: CallbackQuery, ticket: TicketRecord, shown: Message, t: Texts, ctx: GatewayContext
) -> None:
    """A ticket's button: its details (only the owner's own tickets)."""
    await query.answer()
    await shown.edit_text(
        ticket_detail_text(t, ticket, ctx.catalogue.current, ctx.timezone),
        reply_markup=ticket_actions(t, ticket),
    )


async def ticket_gone(query: CallbackQuery, t: Texts) -> None:
    """A ticket's button that `OwnedTicket` did not let through: gone, or not the presser's."""
    await query.answer(t("ticket-not-found"))


async def back_to_list(
    query: CallbackQuery, t: Texts, ctx: GatewayContext, user: GatewayUser
) -> None:
    """'Back to the list' under a ticket's details."""
    if not isinstance(query.message, Message):
        await query.answer(t("button-stale"))
        return
    await query.answer()
    text, markup = await _list(ctx, user, t)
    await query.message.edit_text(text, reply_markup=markup)


def router() -> Router:
    r = Router(name="my_tickets")
    r.message.middleware(RequireAuthorized())
    r.callback_query.middleware(RequireAuthorized())
    r.message.register(list_tickets, Label("menu-my-tickets"))
    r.message.register(list_tickets, Command("tickets"))
    opened = TicketsCb.filter(F.action == TicketsAction.OPEN)
    r.callback_query.register(open_ticket, opened, OwnedTicket())
    r.callback_query.register(ticket_gone, opened)
    r.callback_query.register(back_to_list, TicketsCb.filter(F.action == TicketsAction.LIST))
    return r
