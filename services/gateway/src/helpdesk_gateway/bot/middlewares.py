"""Middlewares: who is writing (and in which language), and who may use the ticket features."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject, Update, User
from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.context import GatewayContext
from helpdesk_gateway.domain.drafts import TicketDraft
from helpdesk_gateway.i18n import Texts, pick_locale

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UserContextMiddleware(BaseMiddleware):
    """Adds `user` (the read model) and `t` (texts in the user's language) to every update.

    Only private chats with people are served; anything else (groups, channels, bots) is ignored.
    """

    def __init__(self, ctx: GatewayContext) -> None:
        self.ctx = ctx

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        person: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if person is None or person.is_bot or chat is None or chat.type != "private":
            return None
        locale = pick_locale(person.language_code)
        user = await self.ctx.users.get(person.id)
        membership_change = isinstance(event, Update) and event.my_chat_member is not None
        if not membership_change and (
            user is None
            or user.chat_id != chat.id
            or user.locale != locale
            or user.username != person.username
            or not user.reachable
        ):
            user = await self.ctx.users.seen(
                person.id,
                chat_id=chat.id,
                locale=locale,
                username=person.username,
                now=self.ctx.clock(),
            )
        data["user"] = user
        data["t"] = self.ctx.i18n.texts(locale)
        return await handler(event, data)


class DraftExpiry(BaseMiddleware):
    """Drops a ticket draft older than GATEWAY_DRAFT_MAX_AGE_SECONDS, photos and all, and says so.

    The janitor deletes photos of unsent drafts only after that age, so a draft is either whole
    or gone with a message, never sent without its photos. The user's action is not carried
    out: it belonged to the dropped draft. Registered on the wizard's routers only (after
    their filters matched), so other updates pay no extra read.
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        state: FSMContext | None = data.get("state")
        ctx: GatewayContext | None = data.get("ctx")
        chat: Chat | None = data.get("event_chat")
        if state is None or ctx is None or chat is None or "t" not in data:
            return await handler(event, data)
        raw = (await state.get_data()).get("draft")
        if not raw:
            return await handler(event, data)
        draft = TicketDraft.model_validate(raw)
        max_age = timedelta(seconds=ctx.settings.draft_max_age_seconds)
        if not draft.expired(ctx.clock(), max_age):
            return await handler(event, data)
        await ctx.attachments.discard(draft.photo_ids())
        await state.clear()
        t: Texts = data["t"]
        hours = max(1, ctx.settings.draft_max_age_seconds // 3600)
        if isinstance(event, CallbackQuery):
            await event.answer()
        await data["bot"].send_message(chat.id, t("draft-expired", hours=hours))
        return None


class RequireAuthorized(BaseMiddleware):
    """Lets only signed-in employees through; others get a polite pointer to /start."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: GatewayUser | None = data.get("user")
        if user is not None and user.authorized:
            return await handler(event, data)
        t: Texts = data["t"]
        state: FSMContext | None = data.get("state")
        if state is not None:
            await state.clear()
        if isinstance(event, CallbackQuery):
            await event.answer(t("sign-in-required-short"), show_alert=True)
        elif isinstance(event, Message):
            await event.answer(t("sign-in-required"))
        return None
