"""Handlers, one router per feature, assembled in the order they must be tried."""

from __future__ import annotations

from aiogram import Router

from helpdesk_gateway.handlers import (
    common,
    conversation,
    errors,
    fallback,
    membership,
    my_tickets,
    new_ticket,
    photos,
    rating,
    sign_in,
)
from helpdesk_gateway.i18n import I18n


def build_router(i18n: I18n) -> Router:
    root = Router(name="gateway")
    root.include_routers(
        errors.router(),
        membership.router(),
        common.router(i18n),  # /cancel and /help work in every state
        sign_in.router(i18n),
        # Before the wizard: "My tickets" pressed mid-draft is a request, not a description.
        my_tickets.router(i18n),
        new_ticket.router(i18n),
        photos.router(i18n),
        rating.router(i18n),
        conversation.router(i18n),  # comments and replies about filed tickets
        fallback.router(i18n),  # last: whatever nothing else took
    )
    return root
