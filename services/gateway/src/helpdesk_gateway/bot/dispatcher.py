"""The dispatcher: aiogram's, plus what must happen before an update reaches the per-user lock.

- an update id seen before is dropped (one effect per update, even when Telegram redelivers);
- album photos are gathered into one update (see albums.py);
- updates in flight are tracked, so shutdown can let them finish.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import Update
from helpdesk_gateway.adapters.updates import UpdateLog
from helpdesk_gateway.bot.albums import AlbumCollector

log = logging.getLogger("helpdesk.gateway.updates")


class GatewayDispatcher(Dispatcher):
    def __init__(
        self,
        *,
        update_log: UpdateLog,
        albums: AlbumCollector,
        clock: Callable[[], datetime],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.update_log = update_log
        self.albums = albums
        self.clock = clock
        self._in_flight: set[asyncio.Task[Any]] = set()

    async def feed_update(self, bot: Bot, update: Update, **kwargs: Any) -> Any:
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            if not await self.update_log.first_time(update.update_id, self.clock()):
                log.info("duplicate update ignored", extra={"update_id": update.update_id})
                return UNHANDLED
            message = update.message
            if message is not None and message.media_group_id is not None:
                album = await self.albums.collect(message)
                if album is None:
                    return UNHANDLED
                kwargs["album"] = album
            return await super().feed_update(bot, update, **kwargs)
        finally:
            if task is not None:
                self._in_flight.discard(task)

    async def drain(self, grace_seconds: float) -> None:
        """Wait (a while) for updates being handled, e.g. before the process exits."""
        pending = {t for t in self._in_flight if t is not asyncio.current_task()}
        if pending:
            await asyncio.wait(pending, timeout=grace_seconds)
