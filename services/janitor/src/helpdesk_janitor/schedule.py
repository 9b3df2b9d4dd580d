"""The interval run: every `JANITOR_INTERVAL_SECONDS`, counted from the last real run on record.

Counting from the record (not from process start) keeps the rhythm across restarts and deploys,
and lets replicas agree: they all see the same last run, and the lease lets only one of them do
the next.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from helpdesk_runtime.lease import LeaseHolder
from pymongo.errors import PyMongoError

from helpdesk_janitor.adapters.runs import RunLog
from helpdesk_janitor.errors import JanitorError
from helpdesk_janitor.runner import Clock, Runner

logger = logging.getLogger("helpdesk.janitor.schedule")

RETRY_PAUSE_SECONDS = 60.0
"""After a failed or refused run, try again this much later (capped by the interval)."""


class Schedule:
    def __init__(self, runner: Runner, runs: RunLog, *, interval: timedelta, clock: Clock) -> None:
        self.runner = runner
        self.runs = runs
        self.interval = interval
        self.clock = clock

    async def seconds_until_due(self) -> float:
        last = await self.runs.last_real_run()
        if last is None:
            return 0.0
        return max(0.0, (last + self.interval - self.clock()).total_seconds())

    async def scheduled_runs(self) -> None:
        """Run forever (a runtime job): wait until due, run, repeat."""
        pause = min(RETRY_PAUSE_SECONDS, self.interval.total_seconds())
        while True:
            try:
                wait = await self.seconds_until_due()
                if wait > 0:
                    # Re-read the record after the wait: a command run may have reset the rhythm.
                    await asyncio.sleep(min(wait, self.interval.total_seconds()))
                    continue
                outcome = await self.runner.run_scheduled()
                if isinstance(outcome, LeaseHolder):
                    await asyncio.sleep(pause)
            except (PyMongoError, JanitorError):
                logger.exception("scheduled janitor run failed; retrying later")
                await asyncio.sleep(pause)
