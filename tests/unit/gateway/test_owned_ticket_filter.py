"""The one stale-button rule of buttons about a filed ticket: a press reaches its handler only
for the presser's own ticket; everything else falls through to the single "stale" answer."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from aiogram.types import CallbackQuery, Chat, InaccessibleMessage, Message, User
from helpdesk_gateway.adapters.users import UserStatus
from helpdesk_gateway.callbacks import ConversationAction, ConversationCb
from helpdesk_gateway.handlers.filters import OwnedTicket

from tests.unit.gateway.factories import TICKET_ID, ticket
from tests.unit.gateway.fakes import FakeOwnTickets, employee

MARIA = User(id=1001, is_bot=False, first_name="Мария")
CHAT = Chat(id=1001, type="private")
SIGNED_IN = employee(1001)


TICKETS = FakeOwnTickets({TICKET_ID: ticket()})


def press(ticket_id: str, *, accessible: bool = True) -> tuple[CallbackQuery, ConversationCb]:
    data = ConversationCb(action=ConversationAction.SOLVED, ticket=ticket_id)
    message: Message | InaccessibleMessage = (
        Message(message_id=7, date=datetime(2026, 12, 1, tzinfo=UTC), chat=CHAT, text="…")
        if accessible
        else InaccessibleMessage(chat=CHAT, message_id=7)
    )
    query = CallbackQuery(
        id="q1", from_user=MARIA, chat_instance="c", data=data.pack(), message=message
    )
    return query, data


async def test_the_authors_press_gets_the_ticket_and_the_message() -> None:
    query, data = press(TICKET_ID)
    passed = await OwnedTicket()(query, data, TICKETS, SIGNED_IN)
    assert isinstance(passed, dict)
    assert passed["ticket"].id == TICKET_ID
    assert passed["shown"] is query.message


async def test_someone_elses_or_a_gone_ticket_falls_through() -> None:
    query, data = press(TICKET_ID)
    stranger = employee(2002)
    assert await OwnedTicket()(query, data, TICKETS, stranger) is False
    query, data = press("6745a1f2c3d4e5f6012345ff")
    assert await OwnedTicket()(query, data, TICKETS, SIGNED_IN) is False


async def test_a_message_that_can_no_longer_be_edited_falls_through_only_where_it_matters() -> None:
    query, data = press(TICKET_ID, accessible=False)
    assert await OwnedTicket()(query, data, TICKETS, SIGNED_IN) is False
    passed = await OwnedTicket(editable=False)(query, data, TICKETS, SIGNED_IN)
    assert isinstance(passed, dict) and passed["ticket"].id == TICKET_ID


async def test_a_user_who_is_not_signed_in_is_left_to_the_sign_in_check() -> None:
    query, data = press(TICKET_ID)
    revoked = replace(SIGNED_IN, status=UserStatus.REVOKED)
    assert await OwnedTicket()(query, data, TICKETS, revoked) is True
    assert await OwnedTicket()(query, data, TICKETS, None) is True
