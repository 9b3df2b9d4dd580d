"""Sign-in: /start, the work email, the code. The answers come back as auth events (see
consumers/auth_events.py); here the employee's input is checked lightly and passed on."""

from __future__ import annotations

import logging
import re

from aiogram import F, Router
from aiogram.filters import CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from helpdesk_contracts.auth.v1 import RequestCode, VerifyCode

from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.callbacks import SignInAction, SignInCb
from helpdesk_gateway.context import GatewayContext
from helpdesk_gateway.handlers.wizard_flow import WIZARD_STATES, load_draft
from helpdesk_gateway.i18n import Texts
from helpdesk_gateway.keyboards import menu, wizard
from helpdesk_gateway.states import SignIn

log = logging.getLogger("helpdesk.gateway.sign_in")

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_CODE_SEPARATORS = re.compile(r"[\s-]")
MAX_EMAIL_LENGTH = 254
CODE_LENGTH = 6
"""Digits in auth's codes: a code of another length is told so here and never costs an attempt."""


def looks_like_email(text: str) -> bool:
    """A light check for instant feedback; auth validates the address for real."""
    return len(text) <= MAX_EMAIL_LENGTH and bool(_EMAIL.match(text))


def normalise_code(text: str) -> str | None:
    """'123 456' and '123-456' are the code 123456; None when it is not digits."""
    digits = _CODE_SEPARATORS.sub("", text)
    return digits if digits.isdigit() and 4 <= len(digits) <= 10 else None


async def request_code(
    message: Message, state: FSMContext, t: Texts, ctx: GatewayContext, user: GatewayUser
) -> None:
    email = (message.text or "").strip()
    if not looks_like_email(email):
        await message.answer(t("sign-in-email-invalid"))
        return
    try:
        await ctx.publisher.publish(
            RequestCode(
                telegram_user_id=user.telegram_user_id,
                chat_id=message.chat.id,
                email=email,
                locale=t.locale,
            )
        )
    except Exception:
        log.exception("could not publish RequestCode")
        await message.answer(t("service-unavailable"))
        return
    # CodeSent moves the flow to the code step; a refusal leaves it here.
    await state.set_state(SignIn.email)
    await message.answer(t("sign-in-checking"))


async def start(message: Message, state: FSMContext, t: Texts, user: GatewayUser) -> None:
    """/start: the menu for signed-in employees (or their unfinished draft); everyone else is
    asked for a work email."""
    if user.authorized and user.profile is not None:
        if await state.get_state() in WIZARD_STATES and (draft := await load_draft(state)):
            await message.answer(
                t("wizard-in-progress"), reply_markup=wizard.resume(t, draft.draft_id)
            )
            return
        await message.answer(
            t("sign-in-already", name=user.profile.display_name, email=user.profile.email),
            reply_markup=menu.main_menu(t),
        )
        return
    await state.clear()
    await state.set_state(SignIn.email)
    await message.answer(t("sign-in-welcome"), reply_markup=ReplyKeyboardRemove())


async def email(
    message: Message, state: FSMContext, t: Texts, ctx: GatewayContext, user: GatewayUser
) -> None:
    """The work email: RequestCode is published."""
    await request_code(message, state, t, ctx, user)


async def code(
    message: Message, state: FSMContext, t: Texts, ctx: GatewayContext, user: GatewayUser
) -> None:
    """The code from the email: VerifyCode is published (an address here asks anew)."""
    text = (message.text or "").strip()
    if "@" in text:
        await request_code(message, state, t, ctx, user)
        return
    digits = normalise_code(text)
    if digits is None:
        await message.answer(t("sign-in-code-format"))
        return
    if len(digits) != CODE_LENGTH:
        await message.answer(t("sign-in-code-length", expected=CODE_LENGTH, length=len(digits)))
        return
    try:
        await ctx.publisher.publish(
            VerifyCode(telegram_user_id=user.telegram_user_id, chat_id=message.chat.id, code=digits)
        )
    except Exception:
        log.exception("could not publish VerifyCode")
        await message.answer(t("service-unavailable"))
        return
    await message.answer(t("sign-in-verifying"))


async def not_text(message: Message, t: Texts) -> None:
    """A sticker, photo, ... while the email or code is expected."""
    await message.answer(t("sign-in-text-only"))


async def other_email(query: CallbackQuery, state: FSMContext, t: Texts, user: GatewayUser) -> None:
    """'Enter another address' under the code message."""
    if user.authorized or not isinstance(query.message, Message):
        await query.answer(t("button-stale"))
        return
    await state.set_state(SignIn.email)
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    await query.message.answer(t("sign-in-ask-email"))


def router() -> Router:
    r = Router(name="sign_in")
    r.message.register(start, CommandStart())
    r.message.register(email, SignIn.email, F.text)
    r.message.register(code, SignIn.code, F.text)
    r.message.register(not_text, StateFilter(SignIn.email, SignIn.code))
    r.callback_query.register(other_email, SignInCb.filter(F.action == SignInAction.OTHER_EMAIL))
    return r
