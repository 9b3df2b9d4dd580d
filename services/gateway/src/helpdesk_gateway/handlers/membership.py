"""The user blocked or unblocked the bot (Telegram's my_chat_member update)."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import ChatMemberUpdated

from helpdesk_gateway.context import GatewayContext

GONE = frozenset({"kicked", "left"})


def router() -> Router:
    r = Router(name="membership")

    @r.my_chat_member()
    async def membership(event: ChatMemberUpdated, ctx: GatewayContext) -> None:
        """Blocked: no more messages (nor broadcasts) until the user is back."""
        reachable = event.new_chat_member.status not in GONE
        await ctx.users.set_reachable(event.chat.id, reachable, ctx.clock())

    return r
