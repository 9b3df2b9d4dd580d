"""A file with the employee's comment: a photo is re-encoded like the wizard's photos (JPEG
within GATEWAY_ATTACHMENT_MAX_BYTES), a document (PDF, office file, log) is taken as it is if it
fits GATEWAY_ATTACHMENT_MAX_BYTES (InfraManager drops attachments over 2 MB by default). The
file goes to GridFS (bucket `attachments`) with the ticket's id; the comment carries its id."""

from __future__ import annotations

import asyncio
import io
import logging
import re
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import Message
from helpdesk_contracts.photos import FilePurpose
from helpdesk_contracts.ticket.v1 import ConversationFile
from helpdesk_runtime.files import store_conversation_file

from helpdesk_gateway.adapters.attachments import AttachmentStore
from helpdesk_gateway.domain import photos
from helpdesk_gateway.errors import PhotoRejectedError
from helpdesk_gateway.i18n import Texts
from helpdesk_gateway.photo_intake import DOWNLOAD_TIMEOUT, incoming_of
from helpdesk_gateway.ports import Clock
from helpdesk_gateway.settings import GatewaySettings

log = logging.getLogger("helpdesk.gateway.comment_files")
_CONTENT_TYPE = re.compile(r"^[a-z0-9.+-]{1,40}/[a-z0-9.+-]{1,80}$")
_UNSAFE = re.compile(r"[^\w.() -]+")
OCTET_STREAM = "application/octet-stream"


def safe_filename(name: str | None, fallback: str) -> str:
    """A file name fit for the contract and an email header: no paths, no control characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", base).strip(" ._")[:128]
    return cleaned or fallback


def content_type_of(mime: str | None) -> str:
    value = (mime or "").strip().lower()
    return value if _CONTENT_TYPE.match(value) else OCTET_STREAM


class FileRefusedError(Exception):
    """The file cannot go with the comment; the message says why, in the user's words."""


@dataclass(frozen=True, slots=True)
class _Prepared:
    data: bytes
    filename: str
    content_type: str


class CommentFiles:
    """Takes the file of an employee's comment: checked, downloaded, re-encoded (photos) and
    stored in GridFS with the ticket's id."""

    def __init__(self, settings: GatewaySettings, attachments: AttachmentStore, clock: Clock):
        self.settings = settings
        self.attachments = attachments
        self.clock = clock

    async def take(
        self, bot: Bot, message: Message, t: Texts, ticket_id: str
    ) -> ConversationFile | None:
        """The message's photo or document stored for the comment; None if it carries none."""
        incoming = incoming_of(message)
        if incoming is None:
            return None
        too_large = FileRefusedError(t("conversation-file-too-large", limit_mb=self._limit_mb()))
        limit = self.settings.attachment_max_bytes
        size = incoming.file_size
        if size is not None and (
            (not message.photo and size > limit) or size > self.settings.photo_max_input_bytes
        ):
            raise too_large
        data = await self._download(bot, incoming.file_id, t, too_large)
        if message.photo:
            prepared = await self._photo(data, t)
        elif len(data) > limit:
            raise too_large
        else:
            prepared = _document(message, data)
        owner = message.from_user.id if message.from_user else message.chat.id
        return await self._store(prepared, owner, ticket_id)

    def _limit_mb(self) -> str:
        # Stated as InfraManager states its own limit ("2 MB"): the cap keeps a margin under it.
        return str(max(1, round(self.settings.attachment_max_bytes / 1_000_000)))

    async def _download(
        self, bot: Bot, file_id: str, t: Texts, too_large: FileRefusedError
    ) -> bytes:
        buffer = io.BytesIO()
        try:
            await bot.download(file_id, destination=buffer, timeout=DOWNLOAD_TIMEOUT)
        except TelegramBadRequest as exc:  # "file is too big" (over 20 MB)
            raise too_large from exc
        except (TelegramAPIError, OSError, TimeoutError) as exc:
            log.warning("comment file download failed", extra={"error": type(exc).__name__})
            raise FileRefusedError(t("photo-download-failed")) from exc
        return buffer.getvalue()

    async def _photo(self, data: bytes, t: Texts) -> _Prepared:
        settings = self.settings
        try:
            encoded = await asyncio.to_thread(
                photos.reencode_jpeg,
                data,
                max_bytes=settings.attachment_max_bytes,
                max_pixels=settings.photo_max_pixels,
                max_side=settings.photo_max_side,
            )
        except PhotoRejectedError as exc:
            raise FileRefusedError(
                t(f"photo-{exc.reason}", limit_mb=settings.photo_max_input_bytes // 2**20)
            ) from exc
        return _Prepared(encoded.data, "photo.jpg", photos.JPEG)

    async def _store(self, file: _Prepared, owner: int, ticket_id: str) -> ConversationFile:
        # Assigned to the ticket at once: the janitor keeps it with the ticket.
        return await store_conversation_file(
            self.attachments.bucket,
            file.data,
            filename=file.filename,
            content_type=file.content_type,
            ticket_id=ticket_id,
            purpose=FilePurpose.COMMENT,
            created_at=self.clock(),
            owner_telegram_id=owner,
        )


def _document(message: Message, data: bytes) -> _Prepared:
    """A document goes as it came, under a safe name."""
    document = message.document
    return _Prepared(
        data,
        safe_filename(document.file_name if document else None, "file"),
        content_type_of(document.mime_type if document else None),
    )
