"""Buttons of the conversation about a filed ticket."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from helpdesk_gateway.callbacks import ConversationAction, ConversationCb
from helpdesk_gateway.i18n import Texts


def answer_button(t: Texts, ticket_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=t("button-answer"),
                    callback_data=ConversationCb(
                        action=ConversationAction.COMMENT, ticket=ticket_id
                    ).pack(),
                )
            ]
        ]
    )


def cancel_input(t: Texts, ticket_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=t("button-conversation-cancel"),
                    callback_data=ConversationCb(
                        action=ConversationAction.ABANDON, ticket=ticket_id
                    ).pack(),
                )
            ]
        ]
    )
