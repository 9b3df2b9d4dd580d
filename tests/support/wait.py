"""Waiting for state that nothing can notify us about (MongoDB documents, metrics, flags)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

WAIT_SECONDS = 15.0


async def eventually(
    check: Callable[[], bool | Awaitable[bool]], *, what: str, within: float = WAIT_SECONDS
) -> None:
    """Poll `check` until it holds; AssertionError naming `what` after `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = check()
        if await result if inspect.isawaitable(result) else result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.05)
