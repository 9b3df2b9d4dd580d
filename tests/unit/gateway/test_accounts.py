"""Accounts with in-memory fakes: where auth's answers leave the sign-in flow, and what the
employee is told."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from helpdesk_contracts.auth.v1 import (
    CodeRejected,
    CodeSent,
    EmployeeProfile,
    RejectReason,
    RevokeReason,
    UserAuthorized,
    UserRevoked,
)
from helpdesk_gateway.accounts import Accounts
from helpdesk_gateway.adapters.users import GatewayUser, UserStatus
from helpdesk_gateway.domain.drafts import DraftPhoto, TicketDraft
from helpdesk_gateway.i18n import I18n
from helpdesk_gateway.messages import Messages
from helpdesk_gateway.states import NewTicket, SignIn

from tests.unit.gateway.fakes import NOW, FakeQueue, Wakes, button_texts, employee

NEWCOMER = replace(employee(1001, "en"), status=UserStatus.NEW, profile=None)
PROFILE = EmployeeProfile(
    email="maria.ivanova@example.com",
    display_name="Maria Ivanova",
    directory_dn="uid=maria,ou=people,dc=example,dc=com",
)
GRACE = timedelta(days=30)


@dataclass
class FakeUsers:
    known: dict[int, GatewayUser] = field(default_factory=lambda: {1001: NEWCOMER})
    places: set[int] = field(default_factory=lambda: {1001})

    async def get(self, user_id: int) -> GatewayUser | None:
        return self.known.get(user_id)

    async def authorize(self, event: UserAuthorized, now: datetime) -> bool:
        user = self.known[event.telegram_user_id]
        self.known[user.telegram_user_id] = replace(
            user, status=UserStatus.AUTHORIZED, profile=event.profile
        )
        return True

    async def revoke(self, event: UserRevoked, now: datetime) -> GatewayUser | None:
        user = self.known.get(event.telegram_user_id)
        if user is None:
            return None
        self.known[user.telegram_user_id] = replace(user, status=UserStatus.REVOKED)
        return self.known[user.telegram_user_id]

    async def clear_location(self, user_id: int) -> bool:
        self.places.discard(user_id)
        return True


@dataclass
class FakeErasure:
    scheduled: dict[int, datetime] = field(default_factory=dict)

    async def schedule_erasure(self, user_id: int, *, at: datetime) -> int:
        self.scheduled[user_id] = at
        return 1


@dataclass
class FakePhotos:
    discarded: list[str] = field(default_factory=list)

    async def discard(self, file_ids: list[str]) -> None:
        self.discarded += file_ids


@dataclass
class FakeFlows:
    storage: MemoryStorage = field(default_factory=MemoryStorage)

    @asynccontextmanager
    async def context(self, chat_id: int, user_id: int) -> AsyncIterator[FSMContext]:
        yield self.state(chat_id, user_id)

    def state(self, chat_id: int = 1001, user_id: int = 1001) -> FSMContext:
        return FSMContext(self.storage, StorageKey(bot_id=1, chat_id=chat_id, user_id=user_id))


@dataclass
class World:
    users: FakeUsers = field(default_factory=FakeUsers)
    erasure: FakeErasure = field(default_factory=FakeErasure)
    photos: FakePhotos = field(default_factory=FakePhotos)
    flows: FakeFlows = field(default_factory=FakeFlows)
    queue: FakeQueue = field(default_factory=FakeQueue)
    wakes: Wakes = field(default_factory=Wakes)

    def accounts(self) -> Accounts:
        return Accounts(
            users=self.users,
            tickets=self.erasure,
            photos=self.photos,
            fsm=self.flows,
            queue=self.queue,
            messages=Messages(I18n.load()),
            clock=lambda: NOW,
            wake_notifier=self.wakes,
            erasure_grace=GRACE,
        )


def code_sent() -> CodeSent:
    return CodeSent(
        telegram_user_id=1001,
        chat_id=1001,
        masked_email="m***a@example.com",
        expires_at=NOW + timedelta(minutes=10),
        resend_after_seconds=60,
    )


def authorized() -> UserAuthorized:
    return UserAuthorized(telegram_user_id=1001, chat_id=1001, profile=PROFILE, authorized_at=NOW)


async def test_the_code_is_awaited_and_announced_with_the_other_email_button() -> None:
    world = World()
    event = code_sent()
    await world.accounts().code_sent(event)
    await world.accounts().code_sent(event)  # redelivered: told once

    assert await world.flows.state().get_state() == SignIn.code.state
    [told] = world.queue.queued.values()
    assert told.text.startswith("The code was sent to m***a@example.com. Enter it here.")
    assert "valid for 10 min" in told.text
    assert button_texts(told) == ["Enter another address"]
    assert world.wakes.count == 1


async def test_signing_in_greets_by_name_and_retires_the_code_message() -> None:
    world = World()
    sent = code_sent()
    await world.accounts().code_sent(sent)
    await world.accounts().authorized(authorized())

    assert await world.flows.state().get_state() is None
    greeting = list(world.queue.queued.values())[-1]
    assert greeting.text.startswith("Done, Maria Ivanova! You are signed in as maria.ivanova@")
    assert greeting.retire == f"auth:{sent.message_id}"
    assert (greeting.markup or {}).get("keyboard")  # the main menu


async def test_a_wrong_code_stays_at_the_code_and_an_unknown_address_goes_back() -> None:
    world = World()
    await world.accounts().code_sent(code_sent())
    wrong = CodeRejected(
        telegram_user_id=1001, chat_id=1001, reason=RejectReason.WRONG_CODE, attempts_left=2
    )
    await world.accounts().code_rejected(wrong)
    assert await world.flows.state().get_state() == SignIn.code.state
    await world.accounts().code_rejected(
        CodeRejected(telegram_user_id=1001, chat_id=1001, reason=RejectReason.EXPIRED)
    )
    assert await world.flows.state().get_state() == SignIn.email.state
    assert len(world.queue.queued) == 3


async def test_a_deleted_person_loses_the_draft_and_their_tickets_are_marked_for_erasure() -> None:
    world = World()
    world.users.known[1001] = employee(1001, "en")
    state = world.flows.state()
    await state.set_state(NewTicket.description)
    photo = DraftPhoto(file_id="a" * 24, size=1, sha256="f" * 64, width=1, height=1)
    await state.update_data(draft=TicketDraft(photos=[photo]).model_dump(mode="json"))

    await world.accounts().revoked(
        UserRevoked(telegram_user_id=1001, reason=RevokeReason.ADMIN_DELETED)
    )
    assert world.erasure.scheduled == {1001: NOW + GRACE}
    assert world.users.places == set()
    assert world.photos.discarded == [photo.file_id]
    assert await state.get_state() is None
    [told] = world.queue.queued.values()
    assert told.text.startswith("Your access to the bot has been closed.")
    assert told.markup == {"remove_keyboard": True}
