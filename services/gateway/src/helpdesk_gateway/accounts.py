"""Auth's answers, turned into the conversation: code sent, refused, signed in, access revoked."""

from __future__ import annotations

import logging
from datetime import timedelta

from aiogram.types import ReplyKeyboardRemove
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
from helpdesk_gateway.bot.fsm import FsmAccess
from helpdesk_gateway.context import GatewayContext
from helpdesk_gateway.domain.drafts import FlowData, SignInData
from helpdesk_gateway.i18n import Texts
from helpdesk_gateway.keyboards import menu
from helpdesk_gateway.keyboards.sign_in import code_sent as code_sent_keyboard
from helpdesk_gateway.notifier import Markup, markup_to_doc
from helpdesk_gateway.states import SignIn
from helpdesk_gateway.views import duration_text, reject_text

log = logging.getLogger("helpdesk.gateway.accounts")

STAY_AT_CODE = frozenset({RejectReason.WRONG_CODE})
SIGN_IN_STATES = frozenset({SignIn.email.state, SignIn.code.state})


class Accounts:
    def __init__(self, ctx: GatewayContext, fsm: FsmAccess) -> None:
        self.ctx = ctx
        self.fsm = fsm

    async def _texts(self, user_id: int) -> Texts:
        return self._texts_of(await self.ctx.users.get(user_id))

    def _texts_of(self, user: GatewayUser | None) -> Texts:
        return self.ctx.i18n.texts(user.locale if user else "ru")

    async def _tell(
        self, cause: ContractMessage, chat_id: int, text: str, markup: Markup | None = None
    ) -> None:
        notification = Notification(
            key=f"auth:{cause.message_id}", chat_id=chat_id, text=text, markup=markup_to_doc(markup)
        )
        if await self.ctx.notifications.enqueue(notification, self.ctx.clock()):
            self.ctx.wake_notifier()

    async def code_sent(self, event: CodeSent) -> None:
        """The code is on its way: the next text the user sends is taken as the code."""
        user = await self.ctx.users.get(event.telegram_user_id)
        if user is not None and user.authorized:
            log.info("code sent to a signed-in user; state left alone")
        else:
            async with self.fsm.context(event.chat_id, event.telegram_user_id) as state:
                await state.set_state(SignIn.code)
                await state.update_data(
                    sign_in=SignInData(masked_email=event.masked_email).model_dump()
                )
        t = self._texts_of(user)
        valid_for = (event.expires_at - self.ctx.clock()).total_seconds()
        text = t(
            "sign-in-code-sent",
            email=event.masked_email,
            valid=duration_text(t, max(valid_for, 1)),
            resend=duration_text(t, event.resend_after_seconds),
        )
        await self._tell(event, event.chat_id, text, code_sent_keyboard(t))

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
        t = await self._texts(event.telegram_user_id)
        await self._tell(event, event.chat_id, reject_text(t, event))

    async def authorized(self, event: UserAuthorized) -> None:
        """Signed in: the read model learns the profile; the user is greeted by name."""
        if not await self.ctx.users.authorize(event, self.ctx.clock()):
            log.info("stale UserAuthorized ignored (revoked later)")
            return
        async with self.fsm.context(event.chat_id, event.telegram_user_id) as state:
            if await state.get_state() in SIGN_IN_STATES:
                await state.clear()
        t = await self._texts(event.telegram_user_id)
        text = t("sign-in-done", name=event.profile.display_name, email=event.profile.email)
        await self._tell(event, event.chat_id, text, menu.main_menu(t))

    async def revoked(self, event: UserRevoked) -> None:
        """Access withdrawn: blocked at once, any flow and draft dropped, the user told.

        A deleted person's tickets are marked for erasure after GATEWAY_PERSONAL_DATA_GRACE_DAYS.
        """
        if event.reason == RevokeReason.ADMIN_DELETED:
            grace = timedelta(days=self.ctx.settings.personal_data_grace_days)
            await self.ctx.tickets.schedule_erasure(
                event.telegram_user_id, at=self.ctx.clock() + grace
            )
            await self.ctx.users.clear_location(event.telegram_user_id)
        user = await self.ctx.users.revoke(event, self.ctx.clock())
        if user is None:
            log.info("UserRevoked for an unknown or re-authorised user ignored")
            return
        async with self.fsm.context(user.chat_id, user.telegram_user_id) as state:
            data = FlowData.model_validate(await state.get_data())
            if data.draft is not None:
                await self.ctx.attachments.discard(data.draft.photo_ids())
            await state.clear()
        t = self.ctx.i18n.texts(user.locale)
        key = "access-revoked-rebound" if event.reason == RevokeReason.REBOUND else "access-revoked"
        await self._tell(event, user.chat_id, t(key), ReplyKeyboardRemove())
