"""Seeding the janitor's world: lifecycle events, photos in GridFS, quarantined mail, chunks."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from bson import ObjectId
from gridfs import AsyncGridFSBucket
from helpdesk_contracts.ticket.v1 import (
    Attachment,
    Category,
    Requester,
    TicketEmailed,
    TicketRated,
    TicketStatus,
    TicketStatusChanged,
    TicketSubmitted,
)
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]

BUCKET = "attachments"
CHUNK_SIZE = 64
"""Small chunks, so that every photo of a few hundred bytes spans several of them."""


def ticket_id(n: int) -> str:
    return f"{n:024x}"


def reference(n: int) -> str:
    return f"TG-{n:06X}"


def submitted(n: int, at: datetime, file_ids: list[str] | None = None) -> TicketSubmitted:
    return TicketSubmitted(
        ticket_id=ticket_id(n),
        reference=reference(n),
        requester=Requester(
            telegram_user_id=1000 + n, email="maria.ivanova@example.com", display_name="Мария"
        ),
        chat_id=1000 + n,
        category=Category(code="printers.not_printing", title="Принтер: не печатает"),
        description="Не печатает принтер",
        attachments=[
            Attachment(
                file_id=f,
                filename="photo.jpg",
                content_type="image/jpeg",
                size=100,
                sha256="0" * 64,
            )
            for f in file_ids or []
        ],
        submitted_at=at,
    )


def emailed(n: int, at: datetime) -> TicketEmailed:
    return TicketEmailed(
        ticket_id=ticket_id(n),
        reference=reference(n),
        email_message_id=f"<{reference(n)}@helpdesk.example.com>",
        sent_at=at,
    )


def status(n: int, value: TicketStatus, at: datetime) -> TicketStatusChanged:
    return TicketStatusChanged(
        ticket_id=ticket_id(n), reference=reference(n), status=value, changed_at=at
    )


def rated(n: int, at: datetime) -> TicketRated:
    return TicketRated(
        ticket_id=ticket_id(n),
        reference=reference(n),
        telegram_user_id=1000 + n,
        rating=5,
        rated_at=at,
    )


async def upload_photo(
    db: AsyncDatabase[Document], *, ticket: int | None, created_at: datetime, size: int = 200
) -> ObjectId:
    """A photo as the gateway stores it: bytes in GridFS, the facts in `metadata`."""
    bucket = AsyncGridFSBucket(db, BUCKET, chunk_size_bytes=CHUNK_SIZE)
    file_id: ObjectId = await bucket.upload_from_stream(
        "photo.jpg",
        os.urandom(size),
        metadata={
            "ticket_id": ticket_id(ticket) if ticket is not None else None,
            "owner": 1000 + (ticket or 0),
            "sha256": "0" * 64,
            "size": size,
            "content_type": "image/jpeg",
            "created_at": created_at,
        },
    )
    return file_id


def object_id_at(when: datetime) -> ObjectId:
    """An ObjectId stamped with `when`, unique like one the driver makes at that moment."""
    return ObjectId(int(when.timestamp()).to_bytes(4, "big") + os.urandom(8))


async def leave_orphan_chunks(
    db: AsyncDatabase[Document], *, written_at: datetime, chunks: int = 3
) -> ObjectId:
    """Chunks of a file whose file document is gone, as written at `written_at`.

    This is what a crash between deleting a file document and its chunks leaves behind (and
    also what an upload that died half-way leaves).
    """
    files_id = object_id_at(written_at)
    await db[f"{BUCKET}.chunks"].insert_many(
        [
            {
                "_id": object_id_at(written_at),
                "files_id": files_id,
                "n": n,
                "data": b"x" * CHUNK_SIZE,
            }
            for n in range(chunks)
        ]
    )
    return files_id


async def quarantine_mail(db: AsyncDatabase[Document], *, at: datetime) -> ObjectId:
    result = await db.inbox_quarantine.insert_one(
        {"quarantined_at": at, "mailbox": "helpdesk", "raw": os.urandom(300)}
    )
    inserted: ObjectId = result.inserted_id
    return inserted


async def file_ids(db: AsyncDatabase[Document]) -> set[ObjectId]:
    return {d["_id"] async for d in db[f"{BUCKET}.files"].find({}, {"_id": 1})}


async def chunk_owners(db: AsyncDatabase[Document]) -> set[ObjectId]:
    return set(await db[f"{BUCKET}.chunks"].distinct("files_id"))
