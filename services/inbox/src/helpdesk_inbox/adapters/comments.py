"""Engineers' comments in `itsm_links`: the comment and its TicketCommentAdded in one update.

Guarded twice: by the mail (`comment_sources`: a mail re-read after a crash adds nothing) and by
the text (`comment_keys`: the same comment sent again in a later mail is not forwarded again).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from bson import ObjectId
from gridfs import AsyncGridFSBucket
from helpdesk_contracts.photos import PHOTO_BUCKET, FilePurpose
from helpdesk_contracts.ticket.v1 import ConversationFile, TicketCommentAdded
from helpdesk_runtime.files import store_conversation_file
from helpdesk_runtime.mongo import Document
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from helpdesk_inbox.adapters.links import COLLECTION, entry_for
from helpdesk_inbox.conversation import MailFile

BUCKET = PHOTO_BUCKET


class CommentStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection: AsyncCollection[Document] = db[COLLECTION]
        self.bucket = AsyncGridFSBucket(db, bucket_name=BUCKET)

    async def store_file(
        self, file: MailFile, *, ticket_id: str, source: str, index: int, now: datetime
    ) -> ConversationFile:
        """Keep a notification's file in GridFS for the gateway. The id comes from the mail and
        the position, so reading the mail again stores nothing twice."""
        return await store_conversation_file(
            self.bucket,
            file.data,
            filename=file.filename,
            content_type=file.content_type,
            ticket_id=ticket_id,
            purpose=FilePurpose.SUPPORT_COMMENT,
            created_at=now,
            file_id=ObjectId(hashlib.sha256(f"{source}#{index}".encode()).digest()[:12]),
        )

    async def record(
        self,
        event: TicketCommentAdded,
        *,
        key: str,
        source: str,
        link_number: str | None,
        now: datetime,
    ) -> bool:
        """Queue the comment's event; False when this mail or this comment was seen before."""
        add: Document = {"comment_sources": source, "comment_keys": key}
        if link_number:
            add["itsm_numbers"] = link_number
        result = await self.collection.update_one(
            {
                "_id": event.ticket_id,
                "comment_sources": {"$ne": source},
                "comment_keys": {"$ne": key},
            },
            {
                "$addToSet": add,
                "$set": {"updated_at": now},
                "$push": {"outbox": entry_for(event, source)},
            },
        )
        return result.modified_count == 1

    async def remember(self, ticket_id: str, key: str, now: datetime) -> None:
        """A comment the employee heard with a status change: not to be forwarded again."""
        await self.collection.update_one(
            {"_id": ticket_id},
            {"$addToSet": {"comment_keys": key}, "$set": {"updated_at": now}},
        )
