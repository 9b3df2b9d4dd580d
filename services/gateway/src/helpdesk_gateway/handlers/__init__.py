"""Handlers, one router per feature, assembled in the order they must be tried.

Handlers are module functions; each feature's `router()` only registers them. What they use
comes from the dispatcher's workflow data (use cases, `i18n` for the `Label` filter), so a
router needs nothing to be built. The routers are built per gateway rather than kept as
module-level objects: aiogram attaches a router to one parent for life, and one process may
build more than one gateway (the integration tests build one per test)."""

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
from helpdesk_gateway.handlers.inline_filters import run_filters_inline


def build_router() -> Router:
    root = Router(name="gateway")
    root.include_routers(
        errors.router(),
        membership.router(),
        common.router(),  # /cancel and /help work in every state
        sign_in.router(),
        # Before the wizard: "My tickets" pressed mid-draft is a request, not a description.
        my_tickets.router(),
        new_ticket.router(),
        photos.router(),
        rating.router(),
        conversation.router(),  # comments and replies about filed tickets
        fallback.router(),  # last: whatever nothing else took
    )
    run_filters_inline(root)
    return root
