"""The admin command's answers in the unusual cases, and the interval run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from helpdesk_contracts import topology
from helpdesk_contracts.admin.v1 import AdminCommandCompleted, Outcome, RunJanitor
from helpdesk_contracts.janitor.v1 import JanitorRunCompleted, PurgeCount
from helpdesk_janitor.app import assemble, create_app
from helpdesk_janitor.runner import Runner, RunOutcome
from helpdesk_janitor.schedule import Schedule
from helpdesk_runtime.broker import ATTEMPT_HEADER
from helpdesk_runtime.retry import DEFAULT_RETRY_LIMIT
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ServerSelectionTimeoutError

from tests.integration.janitor import world
from tests.integration.janitor.conftest import BusFactory, Clock, SettingsFactory
from tests.support.wait import eventually

pytestmark = pytest.mark.integration

Document = dict[str, Any]
HOUR = timedelta(hours=1)


async def test_a_command_while_another_run_holds_the_lease_is_refused(
    janitor_settings: SettingsFactory,
    bus: BusFactory,
    mongo_db: AsyncDatabase[Document],
    clock: Clock,
) -> None:
    photo = await world.upload_photo(mongo_db, ticket=None, created_at=clock.now - 50 * HOUR)
    await mongo_db.janitor_lease.insert_one(
        {"_id": "retention", "owner": "other:7/run", "expires_at": clock.now + HOUR}
    )
    async with create_app(janitor_settings(), clock=clock):
        b = await bus()
        command = RunJanitor(requested_by="ops:ivanov")
        answer = await b.command(command)

    assert answer.outcome is Outcome.REJECTED
    assert answer.result["lease_held"] is True
    assert "lease" in answer.detail
    assert b.all(JanitorRunCompleted, command.message_id) == []
    assert await world.file_ids(mongo_db) == {photo}


async def test_a_redelivered_command_is_answered_once(
    janitor_settings: SettingsFactory,
    bus: BusFactory,
    mongo_db: AsyncDatabase[Document],
    clock: Clock,
) -> None:
    async with create_app(janitor_settings(), clock=clock):
        b = await bus()
        command = RunJanitor(requested_by="ops:ivanov")
        await b.command(command)
        await world.upload_photo(mongo_db, ticket=None, created_at=clock.now - 50 * HOUR)
        await b.publish(command)  # the same message again, as after a lost ack
        # The copy needs one lookup, the next command a whole run: by the time the next one is
        # answered, the copy has been handled.
        after = await b.command(RunJanitor(requested_by="ops:ivanov"))

    answers = b.all(AdminCommandCompleted, command.message_id)
    runs = b.all(JanitorRunCompleted, command.message_id)
    assert (len(answers), len(runs)) == (1, 1)
    # The photo uploaded meanwhile was deleted by the next command, not by the copy.
    purged = after.result["purged"]
    assert isinstance(purged, dict)
    assert purged["abandoned"] == {"items": 1, "bytes": 200}


async def test_the_interval_run_starts_when_none_is_on_record(
    janitor_settings: SettingsFactory,
    bus: BusFactory,
    mongo_db: AsyncDatabase[Document],
    clock: Clock,
) -> None:
    await world.upload_photo(mongo_db, ticket=None, created_at=clock.now - 50 * HOUR, size=321)
    async with create_app(janitor_settings(interval_seconds=3600), clock=clock):
        b = await bus()
        completed = await b.wait_for(JanitorRunCompleted)

    assert completed.correlation_id is None
    assert not completed.dry_run
    assert completed.purged["abandoned"] == PurgeCount(items=1, bytes=321)
    assert await world.file_ids(mongo_db) == set()


async def test_the_next_interval_run_is_due_one_interval_after_the_last_real_run(
    offline_settings: SettingsFactory, mongo_db: AsyncDatabase[Document], clock: Clock
) -> None:
    janitor = assemble(offline_settings(), mongo_db, clock=clock, on_recorded=lambda: None)
    schedule = Schedule(janitor.runner, janitor.runs, interval=HOUR, clock=clock)
    assert await schedule.seconds_until_due() == 0

    await janitor.runner.run_command(RunJanitor(requested_by="ops:ivanov", dry_run=True))
    assert await schedule.seconds_until_due() == 0  # a dry run deletes nothing: still due

    await janitor.runner.run_scheduled()
    assert await schedule.seconds_until_due() == 3600
    clock.now += timedelta(minutes=45)
    assert await schedule.seconds_until_due() == 15 * 60
    clock.now += timedelta(minutes=20)
    assert await schedule.seconds_until_due() == 0


async def _unreachable_database(self: Runner, command: RunJanitor) -> RunOutcome:
    raise ServerSelectionTimeoutError("no MongoDB answers")


async def test_a_run_that_meets_a_database_failure_is_retried_later_then_answered_failed(
    janitor_settings: SettingsFactory,
    bus: BusFactory,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Runner, "run_command", _unreachable_database)
    queue = topology.queue_name("janitor", RunJanitor)
    async with create_app(janitor_settings(), clock=clock):
        b = await bus()
        first = RunJanitor(requested_by="ops:ivanov")
        await b.publish(first)

        # The second retry (after the 1 s tier) waits 5 s: long enough to be seen there.
        async def waits_for_retry() -> bool:
            return await b.queue_depth(topology.delay_queue_name(5)) == 1

        await eventually(waits_for_retry, what="the command to wait in the 5 s delay tier")

        last = RunJanitor(requested_by="ops:ivanov")
        await b.publish(last, headers={ATTEMPT_HEADER: DEFAULT_RETRY_LIMIT})
        answer = await b.wait_for(
            AdminCommandCompleted, lambda m: m.correlation_id == last.message_id
        )

        async def dead_lettered() -> bool:
            return await b.queue_depth(topology.dlq_name(queue)) == 1

        await eventually(dead_lettered, what="the command to be dead-lettered")

    assert answer.outcome is Outcome.FAILED
    assert "ServerSelectionTimeoutError" in answer.detail
    assert (
        b.all(AdminCommandCompleted, first.message_id) == []
    )  # still to be retried: no answer yet
