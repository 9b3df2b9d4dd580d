"""Photos in GridFS, bucket `attachments` (`helpdesk_contracts.photos`); metadata in
`attachments.files`, one `PhotoMetadata` per file.

A photo is stored as soon as the user sends it (so the wizard keeps only ids), with
`metadata.ticket_id = None`; Send sets the ticket id. Photos of a cancelled draft are deleted; any
left behind by a crash stay unassigned, which is what the janitor's retention rules look for.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from bson import ObjectId
from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from helpdesk_contracts.photos import PHOTO_BUCKET, FilePurpose, PhotoMetadata
from helpdesk_gateway.domain.photos import EncodedPhoto
from helpdesk_runtime.mongo import by_ids
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]
BUCKET = PHOTO_BUCKET
CONVERSATION_PURPOSES = tuple(purpose.value for purpose in FilePurpose)
"""`metadata.purpose` of files that came with a comment (comment_files.py; the inbox)."""


class AttachmentStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.bucket = AsyncGridFSBucket(db, bucket_name=BUCKET)
        self.files = db[f"{BUCKET}.files"]

    async def ensure_indexes(self) -> None:
        await self.files.create_index("metadata.ticket_id")
        await self.files.create_index("metadata.created_at")

    async def put(
        self,
        photo: EncodedPhoto,
        *,
        filename: str,
        owner: int,
        now: datetime,
        draft_expires_at: datetime | None = None,
    ) -> str:
        file_id: ObjectId = await self.bucket.upload_from_stream(
            filename,
            photo.data,
            metadata=PhotoMetadata(
                ticket_id=None,
                owner_telegram_id=owner,
                sha256=photo.sha256,
                size=photo.size,
                content_type=photo.content_type,
                width=photo.width,
                height=photo.height,
                created_at=now,
                # The janitor keeps an unlinked photo at least until its draft is dropped.
                draft_expires_at=draft_expires_at,
            ).to_document(),
        )
        return str(file_id)

    async def assign(self, file_ids: list[str], ticket_id: str) -> None:
        if file_ids:
            await self.files.update_many(
                by_ids(ObjectId(f) for f in file_ids),
                {"$set": {"metadata.ticket_id": ticket_id}},
            )

    async def discard(self, file_ids: list[str]) -> None:
        """Delete photos of a draft that will not be sent (never an assigned one)."""
        for file_id in file_ids:
            doc = await self.files.find_one({"_id": ObjectId(file_id)}, {"metadata": 1})
            if doc is not None and (doc.get("metadata") or {}).get("ticket_id") is None:
                await self.bucket.delete(ObjectId(file_id))

    async def forget_conversation_files(self, ticket_ids: list[str]) -> int:
        """Delete the files of these tickets' conversations: the employee's (`comment`) and IT
        support's (`support_comment`, stored by the inbox). The ticket's own photos are the
        janitor's, which keeps them while the ticket email may still have to go out."""
        query = {
            "metadata.ticket_id": {"$in": ticket_ids},
            "metadata.purpose": {"$in": list(CONVERSATION_PURPOSES)},
        }
        deleted = 0
        async for doc in self.files.find(query, {"_id": 1}):
            with contextlib.suppress(NoFile):  # deleted meanwhile (the janitor)
                await self.bucket.delete(doc["_id"])
                deleted += 1
        return deleted

    async def read(self, file_id: str) -> bytes:
        stream = await self.bucket.open_download_stream(ObjectId(file_id))
        data: bytes = await stream.read()
        return data
