"""Filters the handlers share: a reply-keyboard label in any language, and the stale-button
rules (the wizard's draft, an employee's own ticket).

`Label` matches a text against a locale key's wording in every language; the texts come from
the dispatcher's workflow data (`i18n`), so a router needs nothing at build time.

The one stale-button rule of the wizard:

A wizard button carries its draft's id. `CurrentDraft` lets a press through only when that
draft is the user's current one (and the wizard is at one of the given steps), and hands the
draft and the pressed message to the handler. Any other press falls through to the fallback
router, which answers it once as a stale button. A user who is not signed in is let through:
the router's `RequireAuthorized` then answers "sign in first", whatever the button.
"""

from __future__ import annotations

from typing import Any, Protocol

from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message

from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.callbacks import WizardCb
from helpdesk_gateway.domain.tickets import TicketRecord
from helpdesk_gateway.handlers.wizard_flow import draft_for
from helpdesk_gateway.i18n import I18n


class Label(Filter):
    """A reply-keyboard button (or a word) pressed or typed in any of the bot's languages."""

    def __init__(self, key: str, *, ignore_case: bool = False) -> None:
        self.key = key
        self.ignore_case = ignore_case

    async def __call__(self, message: Message, i18n: I18n) -> bool:
        if message.text is None:
            return False
        if self.ignore_case:
            words = {word.lower() for word in i18n.variants(self.key)}
            return message.text.lower() in words
        return message.text in i18n.variants(self.key)


class CurrentDraft(Filter):
    def __init__(self, *states: State, editable: bool = True) -> None:
        self.states = states
        self.editable = editable
        """The handler edits the pressed message: it is handed over as `pressed`."""

    async def __call__(
        self,
        query: CallbackQuery,
        callback_data: WizardCb,
        state: FSMContext,
        user: GatewayUser | None = None,
    ) -> bool | dict[str, Any]:
        if user is None or not user.authorized:
            return True  # never reaches the handler: RequireAuthorized answers first
        # Buttons under a message too old for the Bot API to hand over cannot be edited.
        if self.editable and not isinstance(query.message, Message):
            return False
        draft = await draft_for(state, callback_data.draft, self.states)
        if draft is None:
            return False
        if self.editable:
            return {"draft": draft, "pressed": query.message}
        return {"draft": draft}


class NamesTicket(Protocol):
    ticket: str


class OwnTickets(Protocol):
    async def of_user(self, ticket_id: str, user_id: int) -> TicketRecord | None: ...


class OwnedTicket(Filter):
    """The one stale-button rule of buttons about a filed ticket.

    The button names a ticket; the press is let through only when that ticket is the presser's
    own (and, if `editable`, the message under it can still be edited), and the handler gets
    the ticket (`ticket`) and the message (`shown`). Any other press falls through to the next
    handler for it or to the fallback router, which answers it once as a stale button. A user
    who is not signed in is let through: the router's `RequireAuthorized` answers first.
    """

    def __init__(self, *, editable: bool = True) -> None:
        self.editable = editable

    async def __call__(
        self,
        query: CallbackQuery,
        callback_data: NamesTicket,
        tickets: OwnTickets,
        user: GatewayUser | None = None,
    ) -> bool | dict[str, Any]:
        if user is None or not user.authorized:
            return True
        if self.editable and not isinstance(query.message, Message):
            return False
        ticket = await tickets.of_user(callback_data.ticket, user.telegram_user_id)
        if ticket is None:
            return False
        if self.editable:
            return {"ticket": ticket, "shown": query.message}
        return {"ticket": ticket}
