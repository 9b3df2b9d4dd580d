"""Taking photos into a draft: download, check, re-encode, store in GridFS, report progress.

A photo or an image document (a single one or a whole album) is handled in one go, so the user
gets one reply per album. While an album is processed, one progress message shows
"фото 2 из 3 сохранено"; it is edited as fast as the per-chat limit allows (the latest text wins,
processing never waits for it) and finally becomes the step's summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.chat_action import ChatActionSender
from aiohttp import ClientError

from helpdesk_gateway.context import GatewayContext
from helpdesk_gateway.domain import photos
from helpdesk_gateway.domain.drafts import DraftPhoto, TicketDraft
from helpdesk_gateway.errors import PhotoRejectedError
from helpdesk_gateway.i18n import Texts

log = logging.getLogger("helpdesk.gateway.photos")

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic")
DOWNLOAD_TIMEOUT = 60


@dataclass(frozen=True, slots=True)
class Incoming:
    file_id: str
    file_size: int | None
    is_image: bool


@dataclass
class IntakeResult:
    saved: int = 0
    problems: list[str] = field(default_factory=list)
    over_limit: int = 0


def incoming_of(message: Message) -> Incoming | None:
    """The file a message carries, if it is a photo or a document."""
    if message.photo:
        largest = message.photo[-1]
        return Incoming(largest.file_id, largest.file_size, is_image=True)
    if message.document:
        doc = message.document
        name = (doc.file_name or "").lower()
        is_image = (doc.mime_type or "").startswith("image/") or name.endswith(IMAGE_EXTENSIONS)
        return Incoming(doc.file_id, doc.file_size, is_image=is_image)
    return None


class Progress:
    """A message whose text follows the latest progress without slowing the work down."""

    def __init__(self, message: Message) -> None:
        self.message = message
        self._latest: str | None = None
        self._shown = message.text
        self._wake = asyncio.Event()
        self._closed = False
        self._task = asyncio.create_task(self._run())

    def show(self, text: str) -> None:
        self._latest = text
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            text = self._latest
            if text is not None and text != self._shown:
                with contextlib.suppress(TelegramBadRequest):
                    await self.message.edit_text(text)
                self._shown = text
            if self._closed:
                return

    async def finish(self, text: str, markup: InlineKeyboardMarkup | None) -> None:
        self._closed = True
        self._wake.set()
        with contextlib.suppress(TelegramAPIError):
            await self._task
        await self.message.edit_text(text, reply_markup=markup)


class PhotoIntake:
    def __init__(self, ctx: GatewayContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings

    async def take(
        self,
        bot: Bot,
        messages: list[Message],
        draft: TicketDraft,
        t: Texts,
        *,
        progress: Progress | None,
    ) -> IntakeResult:
        """Add the messages' images to the draft (which the caller saves)."""
        result = IntakeResult()
        total = len(messages)
        chat_id = messages[0].chat.id
        async with ChatActionSender.upload_photo(chat_id=chat_id, bot=bot):
            for index, message in enumerate(messages, start=1):
                problem = await self._take_one(bot, message, draft, t)
                if problem is None:
                    result.saved += 1
                elif problem == "over-limit":
                    result.over_limit += 1
                else:
                    result.problems.append(
                        t("photo-problem-line", index=index, problem=problem)
                        if total > 1
                        else problem
                    )
                if progress is not None:
                    progress.show(t("photo-progress", done=index, total=total))
        return result

    async def _take_one(
        self, bot: Bot, message: Message, draft: TicketDraft, t: Texts
    ) -> str | None:
        """None when stored; otherwise why not, in the user's words ('over-limit' for the cap)."""
        settings = self.settings
        incoming = incoming_of(message)
        if incoming is None or not incoming.is_image:
            return self._reason(t, photos.NOT_AN_IMAGE)
        if len(draft.photos) >= settings.max_photos:
            return "over-limit"
        if incoming.file_size is not None and incoming.file_size > settings.photo_max_input_bytes:
            return self._reason(t, photos.TOO_LARGE)
        try:
            buffer = io.BytesIO()
            await bot.download(incoming.file_id, destination=buffer, timeout=DOWNLOAD_TIMEOUT)
        except TelegramBadRequest:
            # Telegram refuses downloads over 20 MB with "file is too big".
            return self._reason(t, photos.TOO_LARGE)
        except (TelegramAPIError, ClientError, OSError, TimeoutError) as exc:
            # ClientResponseError is what the file server's HTTP errors raise; its text holds
            # the download URL, which holds the bot token: log the kind and status only.
            log.warning(
                "photo download failed",
                extra={"error": type(exc).__name__, "status": getattr(exc, "status", None)},
            )
            return t("photo-download-failed")
        data = buffer.getvalue()
        if len(data) > settings.photo_max_input_bytes:
            return self._reason(t, photos.TOO_LARGE)
        try:
            encoded = await asyncio.to_thread(
                photos.reencode_jpeg,
                data,
                max_bytes=settings.attachment_max_bytes,
                max_pixels=settings.photo_max_pixels,
                max_side=settings.photo_max_side,
            )
        except PhotoRejectedError as exc:
            return self._reason(t, exc.reason)
        if draft.has_photo(encoded.sha256):
            return t("photo-duplicate")
        file_id = await self.ctx.attachments.put(
            encoded,
            filename=f"photo-{len(draft.photos) + 1}.jpg",
            owner=message.from_user.id if message.from_user else message.chat.id,
            now=self.ctx.clock(),
            draft_expires_at=draft.expires_at(timedelta(seconds=settings.draft_max_age_seconds)),
        )
        draft.photos.append(
            DraftPhoto(
                file_id=file_id,
                size=encoded.size,
                sha256=encoded.sha256,
                width=encoded.width,
                height=encoded.height,
            )
        )
        return None

    def _reason(self, t: Texts, reason: str) -> str:
        limit_mb = self.settings.photo_max_input_bytes // (1024 * 1024)
        return t(f"photo-{reason}", limit_mb=limit_mb)
