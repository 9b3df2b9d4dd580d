"""The notifier job: delivers queued notifications (gateway_notifications) to Telegram.

Chats are served in parallel (a few at a time), each chat's messages in order; the request
middleware paces them. A blocked user (403) is not retried; a 429 or an outage is retried later
with a growing pause; a refusal Telegram will repeat (400) is recorded and dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.types import Message as TelegramMessage
from gridfs.errors import CorruptGridFile, NoFile

from helpdesk_gateway.adapters.notifications import DeliveryState, Notification, NotificationQueue

log = logging.getLogger("helpdesk.gateway.notifier")

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove
MAX_ATTEMPTS = 12
MAX_BACKOFF_SECONDS = 600.0


def markup_to_doc(markup: Markup | None) -> dict[str, Any] | None:
    return markup.model_dump(mode="json", exclude_none=True) if markup is not None else None


def markup_from_doc(doc: dict[str, Any] | None) -> Markup | None:
    if not doc:
        return None
    if "inline_keyboard" in doc:
        return InlineKeyboardMarkup.model_validate(doc)
    if "keyboard" in doc:
        return ReplyKeyboardMarkup.model_validate(doc)
    return ReplyKeyboardRemove.model_validate(doc)


def backoff_seconds(attempts: int) -> float:
    return min(MAX_BACKOFF_SECONDS, 2.0 ** max(0, attempts))


class Notifier:
    def __init__(
        self,
        queue: NotificationQueue,
        bot: Bot,
        clock: Callable[[], datetime],
        *,
        workers: int,
        batch: int = 200,
        idle_seconds: float = 5.0,
        files: Callable[[str], Awaitable[bytes]] | None = None,
    ) -> None:
        self.queue = queue
        self.bot = bot
        self.clock = clock
        self.workers = workers
        self.batch = batch
        self.idle_seconds = idle_seconds
        self.files = files
        self._wake = asyncio.Event()

    def notify(self) -> None:
        """Something was queued: deliver now rather than at the next tick."""
        self._wake.set()

    async def run(self) -> None:
        failures = 0
        while True:
            self._wake.clear()
            try:
                if await self.run_once():
                    failures = 0
                    continue
                pause = await self._until_next_due()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception:
                failures += 1
                pause = min(self.idle_seconds * 2**failures, 60.0)
                log.exception("notifier failed; will retry", extra={"pause": pause})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=pause)

    async def _until_next_due(self) -> float:
        """Sleep until the next delayed notification is due (at most `idle_seconds`)."""
        next_at = await self.queue.next_due_at()
        if next_at is None:
            return self.idle_seconds
        seconds = (next_at - self.clock()).total_seconds()
        return min(self.idle_seconds, max(0.05, seconds))

    async def run_once(self) -> int:
        """Deliver what is due now; returns how many were tried."""
        due = await self.queue.due(self.clock(), self.batch)
        by_chat: dict[int, list[Notification]] = {}
        for notification in due:
            by_chat.setdefault(notification.chat_id, []).append(notification)
        gate = asyncio.Semaphore(self.workers)

        async def serve(items: list[Notification]) -> None:
            async with gate:
                for index, notification in enumerate(items):
                    state = await self._deliver(notification)
                    if state == DeliveryState.BLOCKED:
                        for rest in items[index + 1 :]:
                            await self.queue.finish(rest.key, DeliveryState.BLOCKED, self.clock())
                        return

        await asyncio.gather(*(serve(items) for items in by_chat.values()))
        return len(due)

    async def _deliver(self, notification: Notification) -> DeliveryState | None:
        try:
            sent = await self._send(notification)
        except TelegramForbiddenError:
            await self.queue.finish(notification.key, DeliveryState.BLOCKED, self.clock())
            return DeliveryState.BLOCKED
        except TelegramRetryAfter as exc:
            await self._later(notification, float(exc.retry_after), "retry_after")
            return None
        except TelegramBadRequest as exc:
            log.warning(
                "notification refused", extra={"key": notification.key, "error": exc.message}
            )
            await self.queue.finish(
                notification.key, DeliveryState.FAILED, self.clock(), error=exc.message
            )
            return DeliveryState.FAILED
        except (TelegramAPIError, OSError, TimeoutError) as exc:
            if notification.attempts + 1 >= MAX_ATTEMPTS:
                await self.queue.finish(
                    notification.key, DeliveryState.FAILED, self.clock(), error=type(exc).__name__
                )
                return DeliveryState.FAILED
            await self._later(
                notification, backoff_seconds(notification.attempts), type(exc).__name__
            )
            return None
        await self.queue.finish(
            notification.key, DeliveryState.SENT, self.clock(), message_id=sent.message_id
        )
        if notification.retire is not None:
            await self._retire(notification.chat_id, notification.retire)
        return DeliveryState.SENT

    async def _send(self, notification: Notification) -> TelegramMessage:
        markup = markup_from_doc(notification.markup)
        file = notification.file
        if file is None or self.files is None:
            return await self.bot.send_message(
                notification.chat_id, notification.text, reply_markup=markup
            )
        try:
            data = await self.files(file["file_id"])
        except (NoFile, CorruptGridFile):
            # Gone (retention) or damaged: the caption still names it.
            log.warning("notification file unreadable", extra={"key": notification.key})
            return await self.bot.send_message(
                notification.chat_id, notification.text, reply_markup=markup
            )
        upload = BufferedInputFile(data, filename=file["filename"])
        if file.get("as_photo"):
            return await self.bot.send_photo(
                notification.chat_id, upload, caption=notification.text, reply_markup=markup
            )
        return await self.bot.send_document(
            notification.chat_id, upload, caption=notification.text, reply_markup=markup
        )

    async def _retire(self, chat_id: int, key: str) -> None:
        """Take the buttons off an earlier message. Best effort: the news itself is out, and
        sending it again for a button would say it twice."""
        message_id = await self.queue.message_id(key)
        if message_id is None:
            return
        try:
            await self.bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)
        except (TelegramAPIError, OSError, TimeoutError) as exc:
            log.info("buttons left on an earlier message", extra={"error": type(exc).__name__})

    async def _later(self, notification: Notification, seconds: float, error: str) -> None:
        log.info(
            "notification delayed",
            extra={"key": notification.key, "seconds": seconds, "error": error},
        )
        await self.queue.retry_at(
            notification.key, self.clock() + timedelta(seconds=seconds), error
        )
