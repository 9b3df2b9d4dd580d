"""A file with the employee's comment: a photo is re-encoded like the wizard's photos (JPEG
within GATEWAY_ATTACHMENT_MAX_BYTES), a document (PDF, office file, log) is taken as it is if it
fits GATEWAY_ATTACHMENT_MAX_BYTES (InfraManager drops attachments over 2 MB by default). The
file goes to GridFS (bucket `attachments`) with the ticket's id; the comment carries its id."""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import re

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import Message
from helpdesk_contracts.ticket.v1 import ConversationFile

from helpdesk_gateway.context import GatewayContext
from helpdesk_gateway.domain import photos
from helpdesk_gateway.errors import PhotoRejectedError
from helpdesk_gateway.i18n import Texts
from helpdesk_gateway.photo_intake import DOWNLOAD_TIMEOUT, incoming_of

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


async def take_file(
    ctx: GatewayContext, bot: Bot, message: Message, t: Texts, ticket_id: str
) -> ConversationFile | None:
    """The message's photo or document stored for the comment; None if it carries none."""
    incoming = incoming_of(message)
    if incoming is None:
        return None
    limit = ctx.settings.attachment_max_bytes
    # Stated as InfraManager states its own limit ("2 MB"): the cap keeps a margin under it.
    limit_mb = str(max(1, round(limit / 1_000_000)))
    is_photo = bool(message.photo)
    if not is_photo and incoming.file_size is not None and incoming.file_size > limit:
        raise FileRefusedError(t("conversation-file-too-large", limit_mb=limit_mb))
    if incoming.file_size is not None and incoming.file_size > ctx.settings.photo_max_input_bytes:
        raise FileRefusedError(t("conversation-file-too-large", limit_mb=limit_mb))
    buffer = io.BytesIO()
    try:
        await bot.download(incoming.file_id, destination=buffer, timeout=DOWNLOAD_TIMEOUT)
    except TelegramBadRequest as exc:  # "file is too big" (over 20 MB)
        raise FileRefusedError(t("conversation-file-too-large", limit_mb=limit_mb)) from exc
    except (TelegramAPIError, OSError, TimeoutError) as exc:
        log.warning("comment file download failed", extra={"error": type(exc).__name__})
        raise FileRefusedError(t("photo-download-failed")) from exc
    data = buffer.getvalue()
    if is_photo:
        try:
            encoded = await asyncio.to_thread(
                photos.reencode_jpeg,
                data,
                max_bytes=limit,
                max_pixels=ctx.settings.photo_max_pixels,
                max_side=ctx.settings.photo_max_side,
            )
        except PhotoRejectedError as exc:
            raise FileRefusedError(
                t(f"photo-{exc.reason}", limit_mb=ctx.settings.photo_max_input_bytes // 2**20)
            ) from exc
        data, filename, content_type = encoded.data, "photo.jpg", photos.JPEG
    else:
        if len(data) > limit:
            raise FileRefusedError(t("conversation-file-too-large", limit_mb=limit_mb))
        document = message.document
        filename = safe_filename(document.file_name if document else None, "file")
        content_type = content_type_of(document.mime_type if document else None)
    digest = hashlib.sha256(data).hexdigest()
    owner = message.from_user.id if message.from_user else message.chat.id
    file_id = await ctx.attachments.bucket.upload_from_stream(
        filename,
        data,
        metadata={
            "ticket_id": ticket_id,  # assigned at once: the janitor keeps it with the ticket
            "owner_telegram_id": owner,
            "sha256": digest,
            "size": len(data),
            "content_type": content_type,
            "purpose": "comment",
            "created_at": ctx.clock(),
        },
    )
    return ConversationFile(
        file_id=str(file_id),
        filename=filename,
        content_type=content_type,
        size=len(data),
        sha256=digest,
    )
