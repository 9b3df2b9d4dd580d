"""Run the routers' plain-function filters on the event loop instead of in worker threads.

aiogram runs a filter that is not a coroutine function in a worker thread
(`asyncio.to_thread`), every time it checks it. A magic filter (`F.text`, `F.action == ...`) and
a `State` used as a filter are such functions, and an update is checked against many handlers'
filters before one matches. Ours are pure and cheap, so the thread hop cost far more than the
check: about a tenth of the gateway's CPU in `make bench`, and a queue in front of every update
when many arrive at once. A filter that would block must be a coroutine or a `Filter` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import Router


def _on_the_loop(callback: Callable[..., Any]) -> Callable[..., Any]:
    async def check(*args: Any, **kwargs: Any) -> Any:
        return callback(*args, **kwargs)

    return check


def run_filters_inline(router: Router) -> int:
    """Make every plain-function filter of this router and those under it a coroutine (once
    they are all registered); returns how many were changed."""
    changed = 0
    for each in router.chain_tail:
        for observer in each.observers.values():
            for handler in observer.handlers:
                for event_filter in handler.filters or ():
                    if not event_filter.awaitable:
                        event_filter.callback = _on_the_loop(event_filter.callback)
                        event_filter.awaitable = True
                        changed += 1
    return changed
