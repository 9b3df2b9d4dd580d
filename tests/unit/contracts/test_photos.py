"""The photo metadata the gateway writes is what the janitor reads, under one bucket name."""

from __future__ import annotations

from datetime import UTC, datetime

from bson import ObjectId
from helpdesk_contracts.photos import (
    PHOTO_BUCKET,
    ConversationFileMetadata,
    FilePurpose,
    PhotoMetadata,
)
from helpdesk_janitor.adapters.attachments import _stored_file
from helpdesk_janitor.settings import JanitorSettings

CREATED = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)


def metadata(ticket_id: str | None) -> PhotoMetadata:
    return PhotoMetadata(
        ticket_id=ticket_id,
        owner_telegram_id=5_100_000_001,
        sha256="0" * 64,
        size=2048,
        content_type="image/jpeg",
        width=96,
        height=64,
        created_at=CREATED,
    )


def test_the_stored_document_keeps_datetimes_and_every_field() -> None:
    doc = metadata(None).to_document()
    assert doc["created_at"] == CREATED and isinstance(doc["created_at"], datetime)
    assert doc["ticket_id"] is None
    assert set(doc) == set(PhotoMetadata.model_fields)


def test_the_janitor_reads_what_the_gateway_writes() -> None:
    files_doc = {
        "_id": ObjectId(),
        "length": 2048,
        "metadata": metadata("6745a1f2c3d4e5f601234560").to_document(),
    }
    stored = _stored_file(files_doc)
    assert stored.ticket_id == "6745a1f2c3d4e5f601234560"
    assert stored.created_at == CREATED
    assert stored.size == 2048


def test_the_janitor_purges_the_shared_bucket_by_default() -> None:
    assert PHOTO_BUCKET == "attachments"
    assert JanitorSettings.model_fields["attachments_bucket"].default == PHOTO_BUCKET


def test_a_conversation_files_metadata_is_stored_as_plain_values() -> None:
    doc = ConversationFileMetadata(
        ticket_id="6745a1f2c3d4e5f601234560",
        purpose=FilePurpose.SUPPORT_COMMENT,
        sha256="0" * 64,
        size=10,
        content_type="application/pdf",
        created_at=CREATED,
    ).to_document()
    assert doc["purpose"] == "support_comment" and type(doc["purpose"]) is str
    assert doc["created_at"] == CREATED
    assert "owner_telegram_id" not in doc  # InfraManager's files have no employee as owner
    assert _stored_file({"_id": ObjectId(), "length": 10, "metadata": doc}).ticket_id == (
        "6745a1f2c3d4e5f601234560"
    )
