"""Buttons of "My tickets" and of the rating question."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from helpdesk_gateway.callbacks import RatingCb, RatingCommentCb, TicketsAction, TicketsCb
from helpdesk_gateway.domain.tickets import TicketRecord
from helpdesk_gateway.i18n import Texts


def ticket_list(tickets: list[TicketRecord]) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=ticket.reference,
                callback_data=TicketsCb(action=TicketsAction.OPEN, ticket=ticket.id).pack(),
            )
        ]
        for ticket in tickets
    ]
    # Two references per row keep ten tickets on one screen.
    paired = [[button for row in rows[i : i + 2] for button in row] for i in range(0, len(rows), 2)]
    return InlineKeyboardMarkup(inline_keyboard=paired)


def back_to_list(t: Texts) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=t("button-back-to-list"),
                    callback_data=TicketsCb(action=TicketsAction.LIST).pack(),
                )
            ]
        ]
    )


def stars(t: Texts, ticket_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=t("button-stars", stars=n),
                    callback_data=RatingCb(ticket=ticket_id, stars=n).pack(),
                )
                for n in range(1, 6)
            ]
        ]
    )


def no_comment(t: Texts, ticket_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=t("button-no-comment"),
                    callback_data=RatingCommentCb(ticket=ticket_id).pack(),
                )
            ]
        ]
    )
