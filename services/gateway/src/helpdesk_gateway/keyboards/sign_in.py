"""Buttons of the sign-in flow."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from helpdesk_gateway.callbacks import SignInAction, SignInCb
from helpdesk_gateway.i18n import Texts


def code_sent(t: Texts) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=t("button-other-email"),
                    callback_data=SignInCb(action=SignInAction.OTHER_EMAIL).pack(),
                )
            ]
        ]
    )
