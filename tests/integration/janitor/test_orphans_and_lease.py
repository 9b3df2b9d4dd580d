"""Crash leftovers and two janitors at once, against the Mongo-wire server."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from gridfs import AsyncGridFSBucket
from helpdesk_janitor.app import Janitor, assemble
from helpdesk_janitor.policy import Rule
from helpdesk_janitor.report import RunReport
from helpdesk_runtime.lease import LeaseHolder
from helpdesk_runtime.metrics import Metrics
from pymongo.asynchronous.database import AsyncDatabase

from tests.integration.janitor import world
from tests.integration.janitor.conftest import Clock, SettingsFactory

pytestmark = pytest.mark.integration

Document = dict[str, Any]
HOUR = timedelta(hours=1)


def janitor(
    settings: SettingsFactory,
    db: AsyncDatabase[Document],
    clock: Clock,
    metrics: Metrics | None = None,
) -> Janitor:
    return assemble(settings(), db, clock=clock, on_recorded=lambda: None, metrics=metrics)


async def test_orphan_chunks_of_a_crash_go_and_an_upload_in_progress_survives(
    offline_settings: SettingsFactory, mongo_db: AsyncDatabase[Document], clock: Clock
) -> None:
    crashed = await world.leave_orphan_chunks(mongo_db, written_at=clock.now - 2 * HOUR, chunks=4)
    # PyMongo writes an upload's chunks first and its file document last: this one is between.
    uploading = await world.leave_orphan_chunks(
        mongo_db, written_at=clock.now - timedelta(minutes=5), chunks=2
    )
    assert await world.chunk_owners(mongo_db) == {crashed, uploading}

    metrics = Metrics("janitor")
    report = await janitor(offline_settings, mongo_db, clock, metrics).runner.run_scheduled()

    assert isinstance(report, RunReport)
    assert report.purged[Rule.ORPHAN_CHUNKS].items == 4
    assert report.purged[Rule.ORPHAN_CHUNKS].bytes == 4 * world.CHUNK_SIZE
    sample = metrics.registry.get_sample_value
    orphans = {"rule": "orphan_chunks"}
    assert sample("helpdesk_janitor_purged_items_total", orphans) == 4
    assert sample("helpdesk_janitor_purged_bytes_total", orphans) == 4 * world.CHUNK_SIZE
    assert sample("helpdesk_janitor_last_run_finished") == clock.now.timestamp()
    assert await world.chunk_owners(mongo_db) == {uploading}
    # The upload completes undisturbed: its file document arrives and the photo reads whole.
    await mongo_db[f"{world.BUCKET}.files"].insert_one(
        {
            "_id": uploading,
            "length": 2 * world.CHUNK_SIZE,
            "chunkSize": world.CHUNK_SIZE,
            "uploadDate": clock.now,
            "filename": "photo.jpg",
            "metadata": {"ticket_id": None, "created_at": clock.now},
        }
    )
    bucket = AsyncGridFSBucket(mongo_db, world.BUCKET)
    body = await (await bucket.open_download_stream(uploading)).read()
    assert body == b"x" * (2 * world.CHUNK_SIZE)

    # An hour and more later its chunks still belong to a file: nothing is an orphan now.
    clock.now += 2 * HOUR
    later = await janitor(offline_settings, mongo_db, clock).runner.run_scheduled()
    assert isinstance(later, RunReport)
    assert later.purged[Rule.ORPHAN_CHUNKS].items == 0
    assert await world.chunk_owners(mongo_db) == {uploading}


async def test_two_janitors_at_once_one_works_the_other_sees_the_lease(
    offline_settings: SettingsFactory, mongo_db: AsyncDatabase[Document], clock: Clock
) -> None:
    for _ in range(3):
        await world.upload_photo(mongo_db, ticket=None, created_at=clock.now - 50 * HOUR)
    first = janitor(offline_settings, mongo_db, clock)
    second = janitor(offline_settings, mongo_db, clock)

    outcomes = await asyncio.gather(first.runner.run_scheduled(), second.runner.run_scheduled())

    reports = [o for o in outcomes if isinstance(o, RunReport)]
    refusals = [o for o in outcomes if isinstance(o, LeaseHolder)]
    assert len(reports) == 1, outcomes
    assert len(refusals) == 1, outcomes
    assert reports[0].purged[Rule.ABANDONED].items == 3
    assert str(reports[0].run_id) in refusals[0].owner
    assert await world.file_ids(mongo_db) == set()
    assert await world.chunk_owners(mongo_db) == set()
    # The lease was let go: the next run proceeds.
    assert isinstance(await second.runner.run_scheduled(), RunReport)


async def test_a_crashed_runs_lease_blocks_until_it_expires(
    offline_settings: SettingsFactory, mongo_db: AsyncDatabase[Document], clock: Clock
) -> None:
    photo = await world.upload_photo(mongo_db, ticket=None, created_at=clock.now - 50 * HOUR)
    await mongo_db.janitor_lease.insert_one(
        {"_id": "retention", "owner": "ghost:1/run", "expires_at": clock.now + timedelta(minutes=5)}
    )
    j = janitor(offline_settings, mongo_db, clock)

    held = await j.runner.run_scheduled()
    assert isinstance(held, LeaseHolder)
    assert held.owner == "ghost:1/run"
    assert await world.file_ids(mongo_db) == {photo}

    clock.now += timedelta(minutes=5, seconds=1)
    taken_over = await j.runner.run_scheduled()
    assert isinstance(taken_over, RunReport)
    assert taken_over.purged[Rule.ABANDONED].items == 1
    assert await world.file_ids(mongo_db) == set()
