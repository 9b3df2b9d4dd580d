"""Files attached to an engineer's comment: kept in GridFS for the gateway, once per mail."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from bson import ObjectId
from gridfs import AsyncGridFSBucket
from helpdesk_inbox.adapters.comments import CommentStore
from helpdesk_inbox.conversation import attachments_of
from pymongo.asynchronous.database import AsyncDatabase

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.4\nact\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


def notification_with_files() -> bytes:
    message = EmailMessage()
    message["Subject"] = "Заявка №12345 Комментарий"
    message.set_content("Комментарий: Акт и схема во вложении.\n")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="акт.pdf")
    message.add_attachment(PNG, maintype="image", subtype="png", filename="../схема.png")
    return message.as_bytes()


def test_a_notifications_files_are_found_and_named_safely() -> None:
    files = attachments_of(notification_with_files())
    assert [(f.filename, f.content_type, f.data) for f in files] == [
        ("акт.pdf", "application/pdf", PDF),
        ("схема.png", "image/png", PNG),
    ]
    assert attachments_of(b"not a mail at all") == []


async def test_files_are_stored_once_even_when_the_mail_is_read_again(
    mongo_db: AsyncDatabase[dict[str, Any]],
) -> None:
    store = CommentStore(mongo_db)
    now = datetime.now(UTC)
    [pdf, _] = attachments_of(notification_with_files())
    first = await store.store_file(pdf, ticket_id="t1", source="box/uidl-1", index=0, now=now)
    again = await store.store_file(pdf, ticket_id="t1", source="box/uidl-1", index=0, now=now)
    assert first == again
    assert (first.filename, first.size, first.sha256) == (
        "акт.pdf",
        len(PDF),
        hashlib.sha256(PDF).hexdigest(),
    )
    assert await mongo_db["attachments.files"].count_documents({}) == 1
    stream = await AsyncGridFSBucket(mongo_db, bucket_name="attachments").open_download_stream(
        ObjectId(first.file_id)
    )
    assert await stream.read() == PDF
    assert stream.metadata is not None and stream.metadata["ticket_id"] == "t1"
