"""What other systems hear about a run: the messages built from a run's counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from helpdesk_contracts.admin.v1 import Outcome, RunJanitor
from helpdesk_contracts.janitor.v1 import PurgeCount
from helpdesk_janitor.policy import KeepReason, Rule
from helpdesk_janitor.report import (
    RunReport,
    Tally,
    attachments_purged,
    command_busy,
    command_done,
    command_failed,
    run_completed,
    run_id_for,
)
from helpdesk_runtime.lease import LeaseHolder

STARTED = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def finished_report(*, dry_run: bool, tickets: int = 2) -> RunReport:
    report = RunReport(run_id=uuid4(), dry_run=dry_run, started_at=STARTED)
    report.finished_at = STARTED + timedelta(seconds=4)
    report.purged[Rule.CLOSED_TICKETS].add(3, 3000)
    report.purged[Rule.ABANDONED].add(1, 500)
    report.purged[Rule.QUARANTINE].add(2, 4096)
    report.kept[KeepReason.NOT_EMAILED] = 5
    for n in range(tickets):
        report.tickets[f"TG-{n:06d}"] = Tally(1, 1000)
    return report


def test_run_completed_carries_every_rule_and_the_correlation() -> None:
    report = finished_report(dry_run=False)
    command_id = uuid4()
    event = run_completed(report, command_id)
    assert event.correlation_id == command_id
    assert event.run_id == report.run_id
    assert (event.started_at, event.finished_at) == (report.started_at, report.finished_at)
    assert event.purged == {
        "closed_tickets": PurgeCount(items=3, bytes=3000),
        "max_age": PurgeCount(items=0, bytes=0),
        "abandoned": PurgeCount(items=1, bytes=500),
        "orphan_chunks": PurgeCount(items=0, bytes=0),
        "quarantine": PurgeCount(items=2, bytes=4096),
    }


def test_an_unfinished_run_is_not_announced() -> None:
    with pytest.raises(ValueError, match="finished"):
        run_completed(RunReport(run_id=uuid4(), dry_run=False, started_at=STARTED), None)


def test_attachments_purged_lists_references_in_events_of_at_most_1000() -> None:
    report = finished_report(dry_run=False, tickets=2500)
    events = attachments_purged(report, None)
    assert [len(e.references) for e in events] == [1000, 1000, 500]
    assert sorted(r for e in events for r in e.references) == sorted(report.tickets)
    assert sum(e.files for e in events) == 2500
    assert sum(e.bytes for e in events) == 2_500_000
    assert {e.run_id for e in events} == {report.run_id}


def test_a_dry_run_or_a_run_without_ticket_photos_purges_nothing_publicly() -> None:
    assert attachments_purged(finished_report(dry_run=True), None) == []
    assert attachments_purged(finished_report(dry_run=False, tickets=0), None) == []


def test_admin_answers() -> None:
    command = RunJanitor(requested_by="ops:ivanov", dry_run=True)
    report = finished_report(dry_run=True)
    done = command_done(report, command)
    assert done.correlation_id == command.message_id
    assert (done.command, done.service, done.outcome) == (
        "admin.run_janitor.v1",
        "janitor",
        Outcome.DONE,
    )
    assert done.result["purged"] == {
        "closed_tickets": {"items": 3, "bytes": 3000},
        "max_age": {"items": 0, "bytes": 0},
        "abandoned": {"items": 1, "bytes": 500},
        "orphan_chunks": {"items": 0, "bytes": 0},
        "quarantine": {"items": 2, "bytes": 4096},
    }
    assert done.result["kept"] == {"not_emailed": 5, "unknown_ticket": 0, "not_due": 0}
    assert done.detail.startswith("would delete 4 photos of 2 tickets")

    busy = command_busy(LeaseHolder("host:1/run", STARTED), command)
    assert (busy.outcome, busy.correlation_id) == (Outcome.REJECTED, command.message_id)
    assert busy.result == {"lease_held": True, "lease_expires_at": STARTED.isoformat()}

    failed = command_failed(command, "ServerSelectionTimeoutError")
    assert failed.outcome is Outcome.FAILED
    assert "ServerSelectionTimeoutError" in failed.detail


def test_a_commands_run_id_is_stable_across_redeliveries() -> None:
    command = RunJanitor(requested_by="ops:ivanov")
    copy = RunJanitor.model_validate_json(command.model_dump_json())
    assert run_id_for(command) == run_id_for(copy)
    assert run_id_for(command) != run_id_for(RunJanitor(requested_by="ops:ivanov"))
