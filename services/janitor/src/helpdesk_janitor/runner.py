"""A janitor run end to end: take the lease, sweep, record the run and its events, let go.

Used by the schedule and by the RunJanitor admin command alike.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from helpdesk_contracts.admin.v1 import RunJanitor
from helpdesk_contracts.base import Message
from helpdesk_runtime.lease import LeaseHolder
from helpdesk_runtime.metrics import Metrics
from pymongo.errors import PyMongoError

from helpdesk_janitor.adapters.lease import Lease
from helpdesk_janitor.adapters.runs import RunLog
from helpdesk_janitor.report import (
    RunReport,
    attachments_purged,
    command_busy,
    command_done,
    run_completed,
    run_id_for,
)
from helpdesk_janitor.sweep import Sweep

Clock = Callable[[], datetime]

logger = logging.getLogger("helpdesk.janitor.run")


class AlreadyAnswered:
    """The command was handled before (this is a redelivery); nothing was done again."""


RunOutcome = RunReport | LeaseHolder | AlreadyAnswered


@dataclass(frozen=True, slots=True)
class Runner:
    sweep: Sweep
    lease: Lease
    runs: RunLog
    clock: Clock
    on_recorded: Callable[[], None]
    """Wakes the outbox relay once a run's events are stored."""
    instance: str
    metrics: Metrics | None = None

    async def run_scheduled(self) -> RunReport | LeaseHolder:
        outcome = await self._run(uuid4(), dry_run=False, command=None)
        if isinstance(outcome, AlreadyAnswered):  # a fresh uuid4 cannot collide
            raise RuntimeError("a scheduled run id was already recorded")
        return outcome

    async def run_command(self, command: RunJanitor) -> RunOutcome:
        run_id = run_id_for(command)
        if await self.runs.exists(run_id):
            return AlreadyAnswered()
        return await self._run(run_id, dry_run=command.dry_run, command=command)

    async def _run(self, run_id: UUID, *, dry_run: bool, command: RunJanitor | None) -> RunOutcome:
        now = self.clock()
        owner = f"{self.instance}/{run_id}"
        holder = await self.lease.acquire(owner, now)
        if holder is not None:
            logger.info(
                "janitor run skipped: lease held",
                extra={"run_id": str(run_id), "lease_owner": holder.owner},
            )
            if command is not None:
                recorded = await self.runs.record_refusal(
                    run_id,
                    holder=holder,
                    command_id=command.message_id,
                    at=now,
                    answer=command_busy(holder, command),
                )
                self.on_recorded()
                if not recorded:
                    return AlreadyAnswered()
            return holder
        try:
            report = RunReport(run_id=run_id, dry_run=dry_run, started_at=now)
            await self.sweep.run(
                report, now=now, renew=lambda: self.lease.renew(owner, self.clock())
            )
            report.finished_at = self.clock()
            correlation = command.message_id if command is not None else None
            events: list[Message] = [
                run_completed(report, correlation),
                *attachments_purged(report, correlation),
            ]
            if command is not None:
                events.append(command_done(report, command))
            # Recorded while the lease is still ours: another replica that gets the lease next
            # already sees this run and does not repeat it.
            recorded = await self.runs.record_run(
                report,
                trigger="command" if command is not None else "schedule",
                command_id=command.message_id if command is not None else None,
                events=events,
            )
        finally:
            # If MongoDB is gone the lease simply expires; the run's own error matters more.
            with contextlib.suppress(PyMongoError):
                await self.lease.release(owner)
        self.on_recorded()
        logger.info("janitor run finished", extra={"run_id": str(run_id), **report.summary()})
        if recorded:
            self._observe(report)
            return report
        return AlreadyAnswered()

    def _observe(self, report: RunReport) -> None:
        """Metrics an operator alerts on: what runs free, what they keep, when one last ran."""
        if self.metrics is None:
            return
        kept = self.metrics.gauge(
            "helpdesk_janitor_kept_photos", "Photos the last run kept, by reason.", ("reason",)
        )
        for reason, count in report.kept.items():
            kept.labels(reason=reason.value).set(count)
        if report.dry_run or report.finished_at is None:
            return
        items = self.metrics.counter(
            "helpdesk_janitor_purged_items", "Items the janitor deleted, by rule.", ("rule",)
        )
        size = self.metrics.counter(
            "helpdesk_janitor_purged_bytes", "Bytes the janitor freed, by rule.", ("rule",)
        )
        for rule, tally in report.purged.items():
            items.labels(rule=rule.value).inc(tally.items)
            size.labels(rule=rule.value).inc(tally.bytes)
        self.metrics.gauge(
            "helpdesk_janitor_last_run_finished",
            "When the last real janitor run finished (Unix time); alert when it grows old.",
        ).set(report.finished_at.timestamp())
