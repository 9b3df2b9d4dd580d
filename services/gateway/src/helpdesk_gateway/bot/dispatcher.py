"""The dispatcher: aiogram's, plus what must happen before an update reaches the per-user lock.

- every update is handled at least once: polling confirms an update to Telegram only after it
  was handled (bot/window.py), so one a crash interrupted comes back to the next process;
- an update handled to the end before is skipped (its id is recorded after its effects), and
  one already being handled here is not started twice (see adapters/updates.py for when the
  log asks MongoDB);
- album photos are gathered into one update (see albums.py);
- updates in flight are tracked, so shutdown can let them finish;
- the FSM document is read once and written once per update (see storage.py), the write under
  the per-user lock, after the handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.fsm.context import FSMContext
from aiogram.types import TelegramObject, Update
from aiogram.utils.backoff import Backoff, BackoffConfig
from helpdesk_gateway.adapters.updates import UpdateLog
from helpdesk_gateway.bot.albums import AlbumCollector
from helpdesk_gateway.bot.raw_updates import GetRawUpdates, RawUpdate, build, update_id
from helpdesk_gateway.bot.storage import SharedClientStorage
from helpdesk_gateway.bot.window import UpdateWindow
from pydantic import ValidationError

log = logging.getLogger("helpdesk.gateway.updates")

BACKOFF = BackoffConfig(min_delay=1.0, max_delay=30.0, factor=1.5, jitter=0.1)
PROGRESS_WAIT_SECONDS = 0.2
"""When getUpdates only hands back updates still being handled, wait this long (or until one
finishes) before asking again: their ids hold the offset, so the next answer would be the same."""


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
        self._handling: set[int] = set()
        self._progress = asyncio.Event()
        self._polled: set[asyncio.Task[None]] = set()
        # After aiogram's FSM middleware, so inside its per-user lock.
        self.update.outer_middleware(FlushFsm())

    def _fsm_unit(self) -> AbstractContextManager[None]:
        storage = self.fsm.storage
        return storage.unit() if isinstance(storage, SharedClientStorage) else nullcontext()

    async def feed_update(self, bot: Bot, update: Update, **kwargs: Any) -> Any:
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        update_id = update.update_id
        if update_id in self._handling:
            log.info("update already being handled", extra={"update_id": update_id})
            return UNHANDLED
        self._handling.add(update_id)
        try:
            if await self.update_log.handled(update_id):
                log.info("duplicate update ignored", extra={"update_id": update_id})
                return UNHANDLED
            message = update.message
            if message is not None and message.media_group_id is not None:
                album = await self.albums.collect(message)
                if album is None:
                    return UNHANDLED
                kwargs["album"] = album
            try:
                with self._fsm_unit():
                    result = await super().feed_update(bot, update, **kwargs)
            except Exception:
                # Logged and answered by the error handler; handling it again would only
                # repeat the failure.
                await self.update_log.record_handled(update_id, self.clock())
                raise
            await self.update_log.record_handled(update_id, self.clock())
            return result
        finally:
            self._handling.discard(update_id)
            if task is not None:
                self._in_flight.discard(task)

    async def poll_updates(
        self, bot: Bot, *, polling_timeout: int, allowed_updates: list[str] | None
    ) -> None:
        """Long polling that confirms an update only once it was handled; runs until cancelled."""
        await self.update_log.begin_polling()
        window = UpdateWindow()
        backoff = Backoff(config=BACKOFF)
        # A long poll may last polling_timeout; the HTTP request must outlast it.
        request_timeout = int((bot.session.timeout or 0) + polling_timeout)
        while True:
            method = GetRawUpdates(
                offset=window.offset(), timeout=polling_timeout, allowed_updates=allowed_updates
            )
            try:
                updates = await bot(method, request_timeout=request_timeout)
            except Exception as exc:
                log.warning(
                    "getUpdates failed; retrying",
                    extra={"error": type(exc).__name__, "retry_in": backoff.next_delay},
                )
                await backoff.asleep()
                continue
            backoff.reset()
            self.update_log.confirmed_below(method.offset)
            fresh = [u for raw in updates if (u := self._take(raw, bot, window)) is not None]
            for update in fresh:
                task = asyncio.create_task(self._handle(bot, update, window))
                self._polled.add(task)
                task.add_done_callback(self._polled.discard)
            if updates and not fresh:
                await self._wait_for_progress()

    @staticmethod
    def _take(raw: RawUpdate, bot: Bot, window: UpdateWindow) -> Update | None:
        """The update, if it is new here (built only then: see bot/raw_updates.py). One that
        cannot be read is confirmed and skipped: handed out again, it would stop polling."""
        number = update_id(raw)
        if number is None:
            log.warning("update without an id ignored", extra={"keys": sorted(raw)[:10]})
            return None
        if not window.take(number):
            return None
        try:
            return build(raw, bot)
        except ValidationError as exc:
            log.error(
                "unreadable update skipped",
                extra={"update_id": number, "errors": exc.error_count()},
            )
            window.finish(number)
            return None

    async def _handle(self, bot: Bot, update: Update, window: UpdateWindow) -> None:
        # aiogram's own step: feed_update, errors logged; the task is kept in _in_flight.
        await self._process_update(bot=bot, update=update)
        # Not reached when cancelled (shutdown timed out): the update stays unconfirmed.
        window.finish(update.update_id)
        self._progress.set()

    async def _wait_for_progress(self) -> None:
        self._progress.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._progress.wait(), timeout=PROGRESS_WAIT_SECONDS)

    async def drain(self, grace_seconds: float) -> None:
        """Wait (a while) for updates being handled, e.g. before the process exits."""
        pending = {t for t in self._in_flight if t is not asyncio.current_task()}
        if pending:
            await asyncio.wait(pending, timeout=grace_seconds)


class FlushFsm(BaseMiddleware):
    """Writes the update's FSM changes once the handler is done (also when it failed: what it
    changed before is kept, as if each change had been written at once). Not when it was
    cancelled (shutdown ran out of time): that update is neither recorded nor confirmed, so the
    next process handles it again from the state it started from."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        state: FSMContext | None = data.get("state")
        if state is None or not isinstance(state.storage, SharedClientStorage):
            return await handler(event, data)
        try:
            result = await handler(event, data)
        except Exception:
            await state.storage.flush()
            raise
        await state.storage.flush()
        return result
