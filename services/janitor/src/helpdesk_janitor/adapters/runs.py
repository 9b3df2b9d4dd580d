"""`janitor_runs`: one record per run (or refused command), with the events it causes.

The record and its events (JanitorRunCompleted, AttachmentsPurged, AdminCommandCompleted) are
one insert: the events sit in the record's outbox until the relay has published them. A
commanded run's `_id` is derived from the command, so a redelivered command collides with the
record of the first delivery instead of running (and answering) twice. Records expire through a
TTL index on `finished_at`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from helpdesk_contracts.base import Message
from helpdesk_runtime.lease import LeaseHolder
from helpdesk_runtime.mongo import Document
from helpdesk_runtime.outbox import OUTBOX_FIELD, outbox_entry
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from helpdesk_janitor.report import RunReport

COLLECTION = "janitor_runs"

Trigger = Literal["schedule", "command"]


class RunLog:
    def __init__(self, db: AsyncDatabase[Document], *, keep: timedelta) -> None:
        self.collection: AsyncCollection[Document] = db[COLLECTION]
        self.keep = keep

    async def create_indexes(self) -> None:
        await self.collection.create_index(
            "finished_at", expireAfterSeconds=int(self.keep.total_seconds())
        )
        await self.collection.create_index([("kind", 1), ("dry_run", 1), ("started_at", -1)])

    async def exists(self, run_id: UUID) -> bool:
        return await self.collection.find_one({"_id": str(run_id)}, {"_id": 1}) is not None

    async def last_real_run(self) -> datetime | None:
        """When the latest run that deleted for real started (the schedule counts from it)."""
        doc = await self.collection.find_one(
            {"kind": "run", "dry_run": False}, {"started_at": 1}, sort=[("started_at", -1)]
        )
        return doc["started_at"] if doc else None

    async def record_run(
        self,
        report: RunReport,
        *,
        trigger: Trigger,
        command_id: UUID | None,
        events: Sequence[Message],
    ) -> bool:
        """Store a finished run with its events; False if this run was already recorded."""
        return await self._insert(
            {
                "_id": str(report.run_id),
                "kind": "run",
                "trigger": trigger,
                "command_id": str(command_id) if command_id else None,
                "dry_run": report.dry_run,
                "started_at": report.started_at,
                "finished_at": report.finished_at,
                **{k: v for k, v in report.summary().items() if k not in ("run_id", "dry_run")},
                OUTBOX_FIELD: [outbox_entry(e) for e in events],
            }
        )

    async def record_refusal(
        self, run_id: UUID, *, holder: LeaseHolder, command_id: UUID, at: datetime, answer: Message
    ) -> bool:
        """Store that a command found the lease held, with its answer."""
        return await self._insert(
            {
                "_id": str(run_id),
                "kind": "lease_held",
                "trigger": "command",
                "command_id": str(command_id),
                "started_at": at,
                "finished_at": at,
                "lease_owner": holder.owner,
                OUTBOX_FIELD: [outbox_entry(answer)],
            }
        )

    async def _insert(self, doc: dict[str, Any]) -> bool:
        try:
            await self.collection.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True
