"""A file that came with a comment, as the gateway and the inbox store it: one GridFS file in the
shared bucket whose metadata the janitor and the gateway's retention read."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest
from bson import ObjectId
from gridfs import AsyncGridFSBucket
from helpdesk_contracts.photos import PHOTO_BUCKET, ConversationFileMetadata, FilePurpose
from helpdesk_janitor.adapters.attachments import _stored_file
from helpdesk_runtime.files import store_conversation_file
from pymongo.asynchronous.database import AsyncDatabase

pytestmark = pytest.mark.integration

LOG = b"2026-12-08 10:00 link down\n" * 10


async def test_the_employees_file_is_stored_with_its_owner_and_ticket(
    mongo_db: AsyncDatabase[dict[str, Any]],
) -> None:
    bucket = AsyncGridFSBucket(mongo_db, bucket_name=PHOTO_BUCKET)
    now = datetime.now(UTC)
    stored = await store_conversation_file(
        bucket,
        LOG,
        filename="router.log",
        content_type="text/plain",
        ticket_id="6745a1f2c3d4e5f601234560",
        purpose=FilePurpose.COMMENT,
        created_at=now,
        owner_telegram_id=5_100_000_001,
    )
    assert (stored.filename, stored.content_type, stored.size, stored.sha256) == (
        "router.log",
        "text/plain",
        len(LOG),
        hashlib.sha256(LOG).hexdigest(),
    )
    doc = await mongo_db["attachments.files"].find_one({"_id": ObjectId(stored.file_id)})
    assert doc is not None
    assert doc["metadata"]["purpose"] == "comment"
    metadata = ConversationFileMetadata.model_validate(doc["metadata"])
    assert (metadata.ticket_id, metadata.owner_telegram_id) == (
        "6745a1f2c3d4e5f601234560",
        5_100_000_001,
    )
    # The janitor's retention sees it as the ticket's file.
    assert _stored_file(doc).ticket_id == "6745a1f2c3d4e5f601234560"
    stream = await bucket.open_download_stream(ObjectId(stored.file_id))
    assert await stream.read() == LOG


async def test_a_file_stored_again_under_its_id_stays_one_file(
    mongo_db: AsyncDatabase[dict[str, Any]],
) -> None:
    bucket = AsyncGridFSBucket(mongo_db, bucket_name=PHOTO_BUCKET)
    file_id = ObjectId()
    first_time = datetime.now(UTC)

    async def store(data: bytes, created_at: datetime) -> str:
        stored = await store_conversation_file(
            bucket,
            data,
            filename="act.pdf",
            content_type="application/pdf",
            ticket_id="t1",
            purpose=FilePurpose.SUPPORT_COMMENT,
            created_at=created_at,
            file_id=file_id,
        )
        return stored.file_id

    assert await store(b"%PDF-1.4 first", first_time) == str(file_id)
    assert await store(b"%PDF-1.4 first", datetime.now(UTC)) == str(file_id)
    docs = await mongo_db["attachments.files"].find({}).to_list()
    assert len(docs) == 1
    assert "owner_telegram_id" not in docs[0]["metadata"]
    assert docs[0]["metadata"]["purpose"] == "support_comment"
