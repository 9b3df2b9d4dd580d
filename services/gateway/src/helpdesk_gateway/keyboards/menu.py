"""The main menu: a persistent reply keyboard."""

from __future__ import annotations

from aiogram.types import KeyboardButton, ReplyKeyboardMarkup

from helpdesk_gateway.i18n import Texts


def main_menu(t: Texts) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=t("menu-new-ticket"))],
            [KeyboardButton(text=t("menu-my-tickets")), KeyboardButton(text=t("menu-help"))],
        ],
        resize_keyboard=True,
        is_persistent=True,
        input_field_placeholder=t("menu-placeholder"),
    )
