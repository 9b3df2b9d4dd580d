"""The photos' GridFS bucket, read as metadata and deleted in batches; bodies are never loaded.

The gateway writes the bucket; the janitor is the one that deletes from it (DESIGN.md gives it
stale data). A file is deleted as its file document first, then its chunks, the order PyMongo's
own `GridFSBucket.delete` uses: the photo disappears for readers in one step, and a crash between
the two leaves only orphan chunks, which the orphan sweep of the next run removes.

The sweep relies on the `{files_id: 1, n: 1}` index PyMongo creates on the first upload.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from helpdesk_runtime.mongo import Document, by_ids
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from helpdesk_janitor.policy import StoredFile

_FILE_FIELDS = {
    "_id": 1,
    "length": 1,
    "uploadDate": 1,
    "metadata.ticket_id": 1,
    "metadata.created_at": 1,
}


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A file's raw id (for deletes) and its plain metadata (for the policy)."""

    raw_id: Any
    file: StoredFile


@dataclass(frozen=True, slots=True)
class OrphanChunks:
    """Chunks whose file document does not exist."""

    files_id: Any
    chunks: int
    bytes: int
    last_write: datetime | None


class AttachmentStore:
    def __init__(self, db: AsyncDatabase[Document], bucket: str) -> None:
        self.files: AsyncCollection[Document] = db[f"{bucket}.files"]
        self.chunks: AsyncCollection[Document] = db[f"{bucket}.chunks"]

    async def pages(self, size: int) -> AsyncIterator[list[FileEntry]]:
        """All files' metadata, `size` at a time. Deleting a yielded page is safe."""
        cursor = self.files.find({}, _FILE_FIELDS).sort("_id", 1).batch_size(size)
        page: list[FileEntry] = []
        async for doc in cursor:
            page.append(FileEntry(doc["_id"], _stored_file(doc)))
            if len(page) >= size:
                yield page
                page = []
        if page:
            yield page

    async def delete_files(self, raw_ids: Sequence[Any], *, only_unlinked: bool) -> list[Any]:
        """Delete these files and their chunks; returns the ids actually deleted.

        `only_unlinked` re-checks, in the delete itself, that the gateway did not link a photo
        to a ticket after it was judged abandoned.
        """
        if not raw_ids:
            return []
        query: dict[str, Any] = by_ids(raw_ids)
        if only_unlinked:
            query["metadata.ticket_id"] = None
        await self.files.delete_many(query)
        remaining = await self._existing(raw_ids)
        gone = [i for i in raw_ids if i not in remaining]
        if gone:
            await self.chunks.delete_many({"files_id": {"$in": gone}})
        return gone

    async def chunk_owner_pages(self, size: int) -> AsyncIterator[list[Any]]:
        """Every distinct `files_id` of the chunks (the sort lets MongoDB walk the index)."""
        cursor = await self.chunks.aggregate(
            [{"$sort": {"files_id": 1}}, {"$group": {"_id": "$files_id"}}], batchSize=size
        )
        page: list[Any] = []
        async for doc in cursor:
            page.append(doc["_id"])
            if len(page) >= size:
                yield page
                page = []
        if page:
            yield page

    async def orphans_among(self, files_ids: Sequence[Any]) -> list[OrphanChunks]:
        """Which of these chunk owners have no file document, with their size and last write."""
        existing = await self._existing(files_ids)
        missing = [i for i in files_ids if i not in existing]
        if not missing:
            return []
        cursor = await self.chunks.aggregate(
            [
                {"$match": {"files_id": {"$in": missing}}},
                {
                    "$group": {
                        "_id": "$files_id",
                        "chunks": {"$sum": 1},
                        "bytes": {"$sum": {"$binarySize": "$data"}},
                        "newest": {"$max": "$_id"},
                    }
                },
            ]
        )
        return [
            OrphanChunks(
                files_id=doc["_id"],
                chunks=int(doc["chunks"]),
                bytes=int(doc.get("bytes") or 0),
                last_write=_last_write(doc["_id"], doc.get("newest")),
            )
            async for doc in cursor
        ]

    async def delete_orphans(self, files_ids: Sequence[Any]) -> list[Any]:
        """Delete the chunks of these file-less owners; returns the owners whose chunks went.

        The file-less condition is checked again right before: an upload may have finished
        since the sweep looked.
        """
        existing = await self._existing(files_ids)
        still_orphans = [i for i in files_ids if i not in existing]
        if still_orphans:
            await self.chunks.delete_many({"files_id": {"$in": still_orphans}})
        return still_orphans

    async def _existing(self, ids: Sequence[Any]) -> set[Any]:
        """Which of these file ids have a file document."""
        cursor = self.files.find(by_ids(ids), {"_id": 1})
        return {doc["_id"] async for doc in cursor}


def _id_time(value: Any) -> datetime | None:
    return value.generation_time if isinstance(value, ObjectId) else None


def _last_write(files_id: Any, newest_chunk_id: Any) -> datetime | None:
    """When the chunks were last written, from the ObjectIds the driver stamped them with."""
    times = [t for t in (_id_time(files_id), _id_time(newest_chunk_id)) if t is not None]
    return max(times) if times else None


def _stored_file(doc: Document) -> StoredFile:
    metadata = doc.get("metadata") or {}
    ticket_id = metadata.get("ticket_id")
    created_at = metadata.get("created_at")
    if not isinstance(created_at, datetime):
        created_at = doc.get("uploadDate")
    if not isinstance(created_at, datetime):
        created_at = _id_time(doc["_id"])
    if created_at is None:
        # No time anywhere: treat it as brand new, so no age rule can delete it by mistake.
        created_at = datetime.max.replace(tzinfo=UTC)
    draft_expires_at = metadata.get("draft_expires_at")
    return StoredFile(
        file_id=str(doc["_id"]),
        ticket_id=str(ticket_id) if ticket_id is not None else None,
        created_at=created_at,
        size=int(doc.get("length") or 0),
        draft_expires_at=draft_expires_at if isinstance(draft_expires_at, datetime) else None,
    )
