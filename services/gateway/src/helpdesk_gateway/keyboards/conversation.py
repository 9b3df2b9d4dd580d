"""Buttons of the conversation about a filed ticket."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from helpdesk_gateway.callbacks import (
    ConversationAction,
    ConversationCb,
    TicketsAction,
    TicketsCb,
)
from helpdesk_gateway.domain.tickets import TicketRecord
from helpdesk_gateway.i18n import Texts


def _button(t: Texts, key: str, action: ConversationAction, ticket_id: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=t(key), callback_data=ConversationCb(action=action, ticket=ticket_id).pack()
    )


def answer_button(t: Texts, ticket_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[_button(t, "button-answer", ConversationAction.COMMENT, ticket_id)]]
    )


def cancel_input(t: Texts, ticket_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(t, "button-conversation-cancel", ConversationAction.ABANDON, ticket_id)]
        ]
    )


def solved_question(t: Texts, ticket_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(t, "button-solved-yes", ConversationAction.SOLVED, ticket_id),
                _button(t, "button-solved-no", ConversationAction.REOPEN, ticket_id),
            ]
        ]
    )


def with_reopen(t: Texts, markup: InlineKeyboardMarkup, ticket_id: str) -> InlineKeyboardMarkup:
    """A low rating: the same «not solved» as after «Проблема решена?»."""
    row = [_button(t, "button-solved-no", ConversationAction.REOPEN, ticket_id)]
    return InlineKeyboardMarkup(inline_keyboard=[*markup.inline_keyboard, row])


def confirm_cancel(t: Texts, ticket_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(t, "button-cancel-confirm", ConversationAction.CANCEL_CONFIRM, ticket_id),
                _button(t, "button-cancel-keep", ConversationAction.CANCEL_KEEP, ticket_id),
            ]
        ]
    )


def ticket_actions(t: Texts, ticket: TicketRecord) -> InlineKeyboardMarkup:
    """Under a ticket's details: comment, withdraw (while it is open), back to the list."""
    rows = [[_button(t, "button-add-comment", ConversationAction.COMMENT, ticket.id)]]
    if ticket.cancellable:
        rows.append([_button(t, "button-cancel-ticket", ConversationAction.CANCEL, ticket.id)])
    back = TicketsCb(action=TicketsAction.LIST).pack()
    rows.append([InlineKeyboardButton(text=t("button-back-to-list"), callback_data=back)])
    return InlineKeyboardMarkup(inline_keyboard=rows)
