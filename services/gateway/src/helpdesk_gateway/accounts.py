"""Auth's answers, turned into the conversation: code sent, refused, signed in, access revoked.

Accounts decides what the sign-in flow does next and whether the employee hears of it; the
presenter (messages.py) writes what they read."""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from aiogram.fsm.context import FSMContext
from helpdesk_contracts.auth.v1 import (
    CodeRejected,
    CodeSent,
    RejectReason,
    RevokeReason,
    UserAuthorized,
    UserRevoked,
)
from helpdesk_contracts.base import Message as ContractMessage

from helpdesk_gateway.adapters.notifications import Notification
from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.domain.drafts import FlowData, SignInData
from helpdesk_gateway.ports import Clock, Queue, Users, Wake
from helpdesk_gateway.states import SignIn

log = logging.getLogger("helpdesk.gateway.accounts")

STAY_AT_CODE = frozenset({RejectReason.WRONG_CODE})
SIGN_IN_STATES = frozenset({SignIn.email.state, SignIn.code.state})


def notification_key(cause: ContractMessage) -> str:
    """What auth's event is told under: a redelivered event queues nothing twice."""
    return f"auth:{cause.message_id}"


class AccountUsers(Users, Protocol):
    async def authorize(self, event: UserAuthorized, now: datetime) -> bool: ...

    async def revoke(self, event: UserRevoked, now: datetime) -> GatewayUser | None: ...

    async def clear_location(self, user_id: int) -> bool: ...


class Erasure(Protocol):
    async def schedule_erasure(self, user_id: int, *, at: datetime) -> int: ...


class Photos(Protocol):
    async def discard(self, file_ids: list[str]) -> None: ...


class Flows(Protocol):
    """The employee's conversation state, under the same lock as their own updates."""

    def context(self, chat_id: int, user_id: int) -> AbstractAsyncContextManager[FSMContext]: ...


class Presenter(Protocol):
    def code_sent(
        self, user: GatewayUser | None, event: CodeSent, valid_for: float
    ) -> Notification: ...

    def code_rejected(self, user: GatewayUser | None, event: CodeRejected) -> Notification: ...

    def signed_in(
        self, user: GatewayUser | None, event: UserAuthorized, retire: str | None
    ) -> Notification: ...

    def revoked(self, user: GatewayUser, event: UserRevoked) -> Notification: ...


@dataclass
class Accounts:
    users: AccountUsers
    tickets: Erasure
    photos: Photos
    fsm: Flows
    queue: Queue
    messages: Presenter
    clock: Clock
    wake_notifier: Wake
    erasure_grace: timedelta

    async def _tell(self, notification: Notification) -> None:
        if await self.queue.enqueue(notification, self.clock()):
            self.wake_notifier()

    async def code_sent(self, event: CodeSent) -> None:
        """The code is on its way: the next text the user sends is taken as the code."""
        user = await self.users.get(event.telegram_user_id)
        if user is not None and user.authorized:
            log.info("code sent to a signed-in user; state left alone")
        else:
            key = notification_key(event)
            async with self.fsm.context(event.chat_id, event.telegram_user_id) as state:
                await state.set_state(SignIn.code)
                sign_in = SignInData(masked_email=event.masked_email, code_notification=key)
                await state.update_data(sign_in=sign_in.model_dump())
        valid_for = (event.expires_at - self.clock()).total_seconds()
        await self._tell(self.messages.code_sent(user, event, valid_for))

    async def code_rejected(self, event: CodeRejected) -> None:
        """Refused: explained in plain words; the flow goes back to the step that can fix it."""
        async with self.fsm.context(event.chat_id, event.telegram_user_id) as state:
            current = await state.get_state()
            if current in SIGN_IN_STATES:
                data = FlowData.model_validate(await state.get_data())
                code_pending = data.sign_in is not None
                if event.reason in STAY_AT_CODE or (
                    event.reason == RejectReason.COOLDOWN and code_pending
                ):
                    await state.set_state(SignIn.code)
                else:
                    await state.set_state(SignIn.email)
        user = await self.users.get(event.telegram_user_id)
        await self._tell(self.messages.code_rejected(user, event))

    async def authorized(self, event: UserAuthorized) -> None:
        """Signed in: the read model learns the profile; the user is greeted by name, and the
        code message's «Ввести другой адрес» goes (the address is settled now)."""
        if not await self.users.authorize(event, self.clock()):
            log.info("stale UserAuthorized ignored (revoked later)")
            return
        code_message = None
        async with self.fsm.context(event.chat_id, event.telegram_user_id) as state:
            if await state.get_state() in SIGN_IN_STATES:
                sign_in = FlowData.model_validate(await state.get_data()).sign_in
                code_message = sign_in.code_notification if sign_in else None
                await state.clear()
        user = await self.users.get(event.telegram_user_id)
        await self._tell(self.messages.signed_in(user, event, code_message))

    async def revoked(self, event: UserRevoked) -> None:
        """Access withdrawn: blocked at once, any flow and draft dropped, the user told.

        A deleted person's tickets are marked for erasure after GATEWAY_PERSONAL_DATA_GRACE_DAYS.
        """
        if event.reason == RevokeReason.ADMIN_DELETED:
            await self.tickets.schedule_erasure(
                event.telegram_user_id, at=self.clock() + self.erasure_grace
            )
            await self.users.clear_location(event.telegram_user_id)
        user = await self.users.revoke(event, self.clock())
        if user is None:
            log.info("UserRevoked for an unknown or re-authorised user ignored")
            return
        async with self.fsm.context(user.chat_id, user.telegram_user_id) as state:
            data = FlowData.model_validate(await state.get_data())
            if data.draft is not None:
                await self.photos.discard(data.draft.photo_ids())
            await state.clear()
        await self._tell(self.messages.revoked(user, event))
