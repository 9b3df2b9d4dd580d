"""What a run did, and the messages that tell others about it. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from helpdesk_contracts.admin.v1 import AdminCommandCompleted, Outcome, RunJanitor
from helpdesk_contracts.janitor.v1 import AttachmentsPurged, JanitorRunCompleted, PurgeCount
from helpdesk_runtime.lease import LeaseHolder

from helpdesk_janitor.policy import KeepReason, Rule

SERVICE = "janitor"
MAX_REFERENCES_PER_EVENT = 1000
"""AttachmentsPurged.references holds at most this many; a bigger run sends several events."""

_RUN_NAMESPACE = UUID("4f1f6a55-7e0c-4c55-9a55-6a1d7c5e3b21")


def run_id_for(command: RunJanitor) -> UUID:
    """A command's run id is derived from the command, so a redelivery finds the first run."""
    return uuid5(_RUN_NAMESPACE, str(command.message_id))


@dataclass(slots=True)
class Tally:
    items: int = 0
    bytes: int = 0

    def add(self, items: int, size: int) -> None:
        self.items += items
        self.bytes += size

    def count(self) -> PurgeCount:
        return PurgeCount(items=self.items, bytes=self.bytes)


def _empty_purged() -> dict[Rule, Tally]:
    return {rule: Tally() for rule in Rule}


def _empty_kept() -> dict[KeepReason, int]:
    return dict.fromkeys(KeepReason, 0)


@dataclass(slots=True)
class RunReport:
    """Counts of one run; in a dry run, what a real run would have deleted."""

    run_id: UUID
    dry_run: bool
    started_at: datetime
    finished_at: datetime | None = None
    purged: dict[Rule, Tally] = field(default_factory=_empty_purged)
    kept: dict[KeepReason, int] = field(default_factory=_empty_kept)
    tickets: dict[str, Tally] = field(default_factory=dict)
    """Photos deleted per ticket reference (ticket-linked rules only)."""
    forgotten_tickets: int = 0
    """Read-model records dropped because their tickets are past the hard maximum."""

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures: the admin answer's `result` and the run record."""
        return {
            "run_id": str(self.run_id),
            "dry_run": self.dry_run,
            "purged": {
                r.value: {"items": t.items, "bytes": t.bytes} for r, t in self.purged.items()
            },
            "kept": {k.value: n for k, n in self.kept.items()},
            "tickets": len(self.tickets),
            "forgotten_tickets": self.forgotten_tickets,
        }

    def describe(self) -> str:
        files = sum(
            self.purged[r].items for r in (Rule.CLOSED_TICKETS, Rule.MAX_AGE, Rule.ABANDONED)
        )
        size = sum(t.bytes for t in self.purged.values())
        verb = "would delete" if self.dry_run else "deleted"
        return (
            f"{verb} {files} photos of {len(self.tickets)} tickets, "
            f"{self.purged[Rule.ORPHAN_CHUNKS].items} orphan chunks, "
            f"{self.purged[Rule.QUARANTINE].items} quarantined mails ({size} bytes)"
        )


def run_completed(report: RunReport, correlation_id: UUID | None) -> JanitorRunCompleted:
    if report.finished_at is None:
        raise ValueError("a run is announced only once it has finished")
    return JanitorRunCompleted(
        correlation_id=correlation_id,
        run_id=report.run_id,
        dry_run=report.dry_run,
        started_at=report.started_at,
        finished_at=report.finished_at,
        purged={rule.value: tally.count() for rule, tally in report.purged.items()},
    )


def attachments_purged(report: RunReport, correlation_id: UUID | None) -> list[AttachmentsPurged]:
    """One event per (at most) 1000 tickets whose photos were deleted; none for a dry run."""
    if report.dry_run:
        return []
    references = sorted(report.tickets)
    events = []
    for start in range(0, len(references), MAX_REFERENCES_PER_EVENT):
        chunk = references[start : start + MAX_REFERENCES_PER_EVENT]
        events.append(
            AttachmentsPurged(
                correlation_id=correlation_id,
                run_id=report.run_id,
                references=chunk,
                files=sum(report.tickets[r].items for r in chunk),
                bytes=sum(report.tickets[r].bytes for r in chunk),
            )
        )
    return events


def command_done(report: RunReport, command: RunJanitor) -> AdminCommandCompleted:
    return AdminCommandCompleted(
        correlation_id=command.message_id,
        command=command.routing_key,
        service=SERVICE,
        outcome=Outcome.DONE,
        detail=report.describe(),
        result=report.summary(),
    )


def command_busy(holder: LeaseHolder, command: RunJanitor) -> AdminCommandCompleted:
    until = holder.expires_at.isoformat() if holder.expires_at else None
    return AdminCommandCompleted(
        correlation_id=command.message_id,
        command=command.routing_key,
        service=SERVICE,
        outcome=Outcome.REJECTED,
        detail=f"another janitor run holds the lease (until {until}); nothing was done",
        result={"lease_held": True, "lease_expires_at": until},
    )


def command_failed(command: RunJanitor, reason: str) -> AdminCommandCompleted:
    return AdminCommandCompleted(
        correlation_id=command.message_id,
        command=command.routing_key,
        service=SERVICE,
        outcome=Outcome.FAILED,
        detail=f"the run failed: {reason}"[:4000],
    )
