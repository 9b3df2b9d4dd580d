"""Storing a file that came with a comment, for the gateway (the employee's) and the inbox
(InfraManager's): one GridFS file in the shared bucket, its `ConversationFileMetadata`, and the
`ConversationFile` a comment event carries."""

from __future__ import annotations

import contextlib
import hashlib
from datetime import datetime

from bson import ObjectId
from gridfs import AsyncGridFSBucket
from gridfs.errors import FileExists
from helpdesk_contracts.photos import ConversationFileMetadata, FilePurpose
from helpdesk_contracts.ticket.v1 import ConversationFile


async def store_conversation_file(
    bucket: AsyncGridFSBucket,
    data: bytes,
    *,
    filename: str,
    content_type: str,
    ticket_id: str,
    purpose: FilePurpose,
    created_at: datetime,
    owner_telegram_id: int | None = None,
    file_id: ObjectId | None = None,
) -> ConversationFile:
    """Store the file and describe it. With `file_id` the call is idempotent: a file stored
    before under that id stays as it is (a mail read again after a crash stores nothing twice)."""
    digest = hashlib.sha256(data).hexdigest()
    metadata = ConversationFileMetadata(
        ticket_id=ticket_id,
        purpose=purpose,
        owner_telegram_id=owner_telegram_id,
        sha256=digest,
        size=len(data),
        content_type=content_type,
        created_at=created_at,
    ).to_document()
    if file_id is None:
        file_id = await bucket.upload_from_stream(filename, data, metadata=metadata)
    else:
        with contextlib.suppress(FileExists):
            await bucket.upload_from_stream_with_id(file_id, filename, data, metadata=metadata)
    return ConversationFile(
        file_id=str(file_id),
        filename=filename,
        content_type=content_type,
        size=len(data),
        sha256=digest,
    )
