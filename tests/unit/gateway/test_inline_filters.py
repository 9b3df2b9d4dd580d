"""The gateway's filters run on the event loop: none is left for aiogram to run in a worker
thread, and a filter made a coroutine still decides as before."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.dispatcher.event.handler import FilterObject
from aiogram.types import Chat, Message
from helpdesk_gateway.handlers import build_router
from helpdesk_gateway.handlers.inline_filters import run_filters_inline
from helpdesk_gateway.states import NewTicket

SENT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def filters(router: Router) -> list[FilterObject]:
    return [
        f
        for each in router.chain_tail
        for observer in each.observers.values()
        for handler in observer.handlers
        for f in handler.filters or ()
    ]


def test_the_gateway_has_no_filter_left_for_a_thread() -> None:
    router = build_router()
    assert filters(router)
    assert all(f.awaitable for f in filters(router))


async def test_a_magic_filter_and_a_state_decide_as_before_on_the_loop() -> None:
    router = Router()
    threads: list[int] = []

    async def handler(message: Message) -> None: ...

    def noted(message: Message) -> bool:
        threads.append(threading.get_ident())
        return message.text == "hi"

    router.message.register(handler, F.text, NewTicket.description, noted)
    assert run_filters_inline(router) == 3
    text, state, plain = filters(router)
    message = Message(message_id=1, date=SENT, chat=Chat(id=5, type="private"), text="hi")
    assert await text.call(message) == "hi"
    assert await state.call(message, raw_state=NewTicket.description.state) is True
    assert await state.call(message, raw_state=None) is False
    assert await plain.call(message) is True
    assert threads == [threading.get_ident()]
    photo_only = Message(message_id=2, date=SENT, chat=Chat(id=5, type="private"))
    assert not await text.call(photo_only)
