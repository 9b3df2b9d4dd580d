"""Albums: Telegram sends each photo of an album as its own update with one media_group_id.

The first update of a group waits until no sibling arrived for a quiet period, then carries the
whole album to the handlers; the siblings stop here. This runs before aiogram's per-user lock,
otherwise the first update would hold the lock while its siblings wait behind it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from aiogram.types import Message

Clock = Callable[[], float]


@dataclass
class _Group:
    messages: dict[int, Message] = field(default_factory=dict)
    last_arrival: float = 0.0


class AlbumCollector:
    def __init__(self, quiet_seconds: float, clock: Clock | None = None) -> None:
        self.quiet_seconds = quiet_seconds
        self._clock = clock or (lambda: asyncio.get_running_loop().time())
        self._groups: dict[tuple[int, str], _Group] = {}

    async def collect(self, message: Message) -> list[Message] | None:
        """The whole album for the first message of a group; None for the others."""
        if message.media_group_id is None:
            return [message]
        key = (message.chat.id, message.media_group_id)
        group = self._groups.get(key)
        if group is not None:
            group.messages.setdefault(message.message_id, message)
            group.last_arrival = self._clock()
            return None
        group = self._groups[key] = _Group({message.message_id: message}, self._clock())
        try:
            while True:
                remaining = group.last_arrival + self.quiet_seconds - self._clock()
                if remaining <= 0:
                    break
                await asyncio.sleep(remaining)
        finally:
            del self._groups[key]
        return [group.messages[mid] for mid in sorted(group.messages)]
