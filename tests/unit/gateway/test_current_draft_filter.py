"""The wizard's one stale-button rule: a press reaches its handler only for the current draft,
at the right step; everything else falls through to the fallback's single "stale" answer."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import CallbackQuery, Chat, InaccessibleMessage, Message, User
from helpdesk_contracts.auth.v1 import EmployeeProfile
from helpdesk_gateway.adapters.users import GatewayUser, UserStatus
from helpdesk_gateway.callbacks import WizardAction, WizardCb
from helpdesk_gateway.domain.drafts import TicketDraft
from helpdesk_gateway.handlers.filters import CurrentDraft
from helpdesk_gateway.handlers.wizard_flow import save_draft
from helpdesk_gateway.states import NewTicket

MARIA = User(id=5, is_bot=False, first_name="Мария")
SIGNED_IN = GatewayUser(
    telegram_user_id=5,
    chat_id=5,
    locale="ru",
    status=UserStatus.AUTHORIZED,
    reachable=True,
    profile=EmployeeProfile(
        email="maria.ivanova@example.com",
        display_name="Иванова Мария",
        directory_dn="uid=maria,ou=people,dc=example,dc=com",
    ),
)
CHAT = Chat(id=5, type="private")


async def wizard_at(step: State) -> tuple[FSMContext, TicketDraft]:
    state = FSMContext(MemoryStorage(), StorageKey(bot_id=1, chat_id=5, user_id=5))
    draft = TicketDraft()
    await save_draft(state, draft)
    await state.set_state(step)
    return state, draft


def press(draft_id: str, *, accessible: bool = True) -> tuple[CallbackQuery, WizardCb]:
    data = WizardCb(action=WizardAction.CATEGORY, draft=draft_id, value="printer")
    message: Message | InaccessibleMessage = (
        Message(message_id=7, date=datetime(2026, 12, 1, tzinfo=UTC), chat=CHAT, text="…")
        if accessible
        else InaccessibleMessage(chat=CHAT, message_id=7)
    )
    query = CallbackQuery(
        id="q1", from_user=MARIA, chat_instance="c", data=data.pack(), message=message
    )
    return query, data


async def test_a_press_for_the_current_draft_gets_the_draft_and_the_message() -> None:
    state, draft = await wizard_at(NewTicket.category)
    query, data = press(draft.draft_id)
    passed = await CurrentDraft(NewTicket.category)(query, data, state, SIGNED_IN)
    assert isinstance(passed, dict)
    assert passed["draft"].draft_id == draft.draft_id
    assert passed["pressed"] is query.message


async def test_a_press_for_an_older_draft_falls_through() -> None:
    state, _current = await wizard_at(NewTicket.category)
    query, data = press(TicketDraft().draft_id)
    assert await CurrentDraft(NewTicket.category)(query, data, state, SIGNED_IN) is False


async def test_a_press_at_another_step_falls_through() -> None:
    state, draft = await wizard_at(NewTicket.preview)
    query, data = press(draft.draft_id)
    assert await CurrentDraft(NewTicket.category)(query, data, state, SIGNED_IN) is False
    # Without steps, any step of the wizard will do (Cancel, Continue).
    assert await CurrentDraft(editable=False)(query, data, state, SIGNED_IN) == {"draft": draft}


async def test_a_user_who_is_not_signed_in_is_left_to_the_sign_in_check() -> None:
    state = FSMContext(MemoryStorage(), StorageKey(bot_id=1, chat_id=5, user_id=5))
    query, data = press(TicketDraft().draft_id)
    revoked = replace(SIGNED_IN, status=UserStatus.REVOKED)
    assert await CurrentDraft(NewTicket.category)(query, data, state, revoked) is True
    assert await CurrentDraft(NewTicket.category)(query, data, state, None) is True


async def test_no_draft_at_all_falls_through() -> None:
    state = FSMContext(MemoryStorage(), StorageKey(bot_id=1, chat_id=5, user_id=5))
    query, data = press(TicketDraft().draft_id)
    assert await CurrentDraft()(query, data, state, SIGNED_IN) is False


async def test_a_message_that_can_no_longer_be_edited_falls_through_only_where_it_matters() -> None:
    state, draft = await wizard_at(NewTicket.category)
    query, data = press(draft.draft_id, accessible=False)
    assert await CurrentDraft(NewTicket.category)(query, data, state, SIGNED_IN) is False
    assert await CurrentDraft(NewTicket.category, editable=False)(
        query, data, state, SIGNED_IN
    ) == {"draft": draft}
