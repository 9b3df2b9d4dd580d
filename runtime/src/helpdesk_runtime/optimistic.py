"""One optimistic-update loop for every service: read, decide, write guarded by what was read.

A step reads a document, decides, and writes with a filter that matches only the version it
read. When another writer got there first the write matches nothing and the step returns
`CHANGED`; the loop reads again. After `tries` lost races it raises `ConflictError`, which every
service counts as transient: its consumer retries the message later (`helpdesk_runtime.retry`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Final, Literal

OPTIMISTIC_TRIES = 5


class ConflictError(Exception):
    """A document kept changing under an optimistic update; the work is retried later."""


class _Changed(Enum):
    CHANGED = "changed"


CHANGED: Final = _Changed.CHANGED
"""What a step returns when its guarded write matched nothing (the document changed)."""

Changed = Literal[_Changed.CHANGED]


async def optimistic_update[R](
    step: Callable[[], Awaitable[R | Changed]], *, what: str, tries: int = OPTIMISTIC_TRIES
) -> R:
    """Run `step` until it does not return `CHANGED`; `ConflictError` after `tries` races."""
    for _ in range(tries):
        result = await step()
        if result is not CHANGED:
            return result
    raise ConflictError(f"{what} kept changing")
