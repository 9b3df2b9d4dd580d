"""Photos of a ticket, read from GridFS (bucket `attachments`) and checked again before sending."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from bson import ObjectId
from gridfs import AsyncGridFSBucket
from gridfs.errors import CorruptGridFile, NoFile
from helpdesk_contracts.photos import PHOTO_BUCKET
from helpdesk_contracts.ticket.v1 import Attachment, ConversationFile
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from helpdesk_mailer.compose import AttachmentFile, LoadedAttachment, OmittedAttachment
from helpdesk_mailer.errors import StorageUnavailableError

BUCKET = PHOTO_BUCKET


class AttachmentReader:
    """Reads each photo unless GridFS says it is over the limit; a missing or damaged one is
    reported for the body instead of failing the ticket."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], *, max_bytes: int) -> None:
        self.bucket = AsyncGridFSBucket(db, bucket_name=BUCKET)
        self.max_bytes = max_bytes

    async def load(self, attachments: Sequence[Attachment]) -> list[LoadedAttachment]:
        try:
            return [await self._load(attachment) for attachment in attachments]
        except PyMongoError as exc:
            raise StorageUnavailableError(f"GridFS: {type(exc).__name__}") from exc

    async def _load(self, attachment: Attachment) -> LoadedAttachment:
        try:
            stream = await self.bucket.open_download_stream(ObjectId(attachment.file_id))
        except NoFile:
            return OmittedAttachment(attachment, "missing", attachment.size)
        # The stored length is what counts: the message's size is the sender's claim.
        if stream.length > self.max_bytes:
            return OmittedAttachment(attachment, "too_large", stream.length)
        try:
            data = await stream.read()
        except CorruptGridFile:
            return OmittedAttachment(attachment, "damaged", stream.length)
        if hashlib.sha256(data).hexdigest() != attachment.sha256:
            return OmittedAttachment(attachment, "damaged", len(data))
        return AttachmentFile(attachment, data)

    async def load_files(
        self, files: Sequence[ConversationFile]
    ) -> list[tuple[ConversationFile, bytes | None]]:
        """Files of an employee's comment; None for one that is missing, damaged or too large."""
        loaded: list[tuple[ConversationFile, bytes | None]] = []
        try:
            for file in files:
                loaded.append((file, await self._read_file(file)))
        except PyMongoError as exc:
            raise StorageUnavailableError(f"GridFS: {type(exc).__name__}") from exc
        return loaded

    async def _read_file(self, file: ConversationFile) -> bytes | None:
        try:
            stream = await self.bucket.open_download_stream(ObjectId(file.file_id))
        except NoFile:
            return None
        if stream.length > self.max_bytes:
            return None
        try:
            data = await stream.read()
        except CorruptGridFile:
            return None
        return data if hashlib.sha256(data).hexdigest() == file.sha256 else None
