"""Commands that work everywhere: /cancel and /help (and the Help button)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, ReplyKeyboardRemove

from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.domain.drafts import FlowData
from helpdesk_gateway.handlers.filters import Label
from helpdesk_gateway.i18n import Texts
from helpdesk_gateway.keyboards import menu
from helpdesk_gateway.ratings import Ratings
from helpdesk_gateway.states import Rating
from helpdesk_gateway.ticket_wizard import TicketWizard


async def cancel(
    message: Message,
    state: FSMContext,
    t: Texts,
    wizard: TicketWizard,
    ratings: Ratings,
    user: GatewayUser,
) -> None:
    """/cancel (or the word): leaves whatever flow the user is in, dropping a draft."""
    current = await state.get_state()
    keyboard = menu.main_menu(t) if user.authorized else ReplyKeyboardRemove()
    if current is None:
        await message.answer(t("nothing-to-cancel"), reply_markup=keyboard)
        return
    data = FlowData.model_validate(await state.get_data())
    await wizard.drop(data.draft)
    if current == Rating.comment.state and data.rating is not None:
        await ratings.finish(data.rating.ticket_id, None)
    await state.clear()
    await message.answer(
        t("cancelled") if user.authorized else t("cancelled-signed-out"), reply_markup=keyboard
    )


async def help_(message: Message, t: Texts, user: GatewayUser) -> None:
    """/help or the Help button: what the bot does and how."""
    await message.answer(
        t("help") if user.authorized else t("help-signed-out"),
        reply_markup=menu.main_menu(t) if user.authorized else None,
    )


def router() -> Router:
    r = Router(name="common")
    r.message.register(cancel, Label("cancel-word", ignore_case=True))
    r.message.register(cancel, Command("cancel"))
    r.message.register(help_, Label("menu-help"))
    r.message.register(help_, Command("help"))
    return r
