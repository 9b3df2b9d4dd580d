"""The janitor as a FastStream app (`faststream run helpdesk_janitor.app:create_app --factory`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from faststream import FastStream
from helpdesk_contracts.base import utc_now
from helpdesk_runtime.config import load_settings
from helpdesk_runtime.lease import instance_name
from helpdesk_runtime.metrics import Metrics
from helpdesk_runtime.mongo import Document
from helpdesk_runtime.outbox import OutboxRelay
from helpdesk_runtime.service import create_runtime, create_service_app, run
from pymongo.asynchronous.database import AsyncDatabase

from helpdesk_janitor.adapters.attachments import AttachmentStore
from helpdesk_janitor.adapters.lease import Lease
from helpdesk_janitor.adapters.quarantine import QuarantineStore
from helpdesk_janitor.adapters.runs import COLLECTION as RUNS_COLLECTION
from helpdesk_janitor.adapters.runs import RunLog
from helpdesk_janitor.adapters.tickets import TicketStore
from helpdesk_janitor.consumers import TRANSIENT, build_router
from helpdesk_janitor.runner import Clock, Runner
from helpdesk_janitor.schedule import Schedule
from helpdesk_janitor.settings import JanitorSettings
from helpdesk_janitor.sweep import Sweep

SERVICE = "janitor"


@dataclass(frozen=True, slots=True)
class Janitor:
    """The service's parts, assembled from settings (the app wires them to the broker)."""

    tickets: TicketStore
    runs: RunLog
    runner: Runner


def assemble(
    settings: JanitorSettings,
    db: AsyncDatabase[Document],
    *,
    clock: Clock,
    on_recorded: Callable[[], None],
    metrics: Metrics | None = None,
) -> Janitor:
    tickets = TicketStore(db)
    runs = RunLog(db, keep=timedelta(days=settings.runs_keep_days))
    sweep = Sweep(
        attachments=AttachmentStore(db, settings.attachments_bucket),
        tickets=tickets,
        quarantine=QuarantineStore(
            db, settings.quarantine_collection, settings.quarantine_time_field
        ),
        policy=settings.retention(),
        batch_size=settings.batch_size,
    )
    runner = Runner(
        sweep=sweep,
        lease=Lease(db, duration=timedelta(seconds=settings.lease_seconds)),
        runs=runs,
        clock=clock,
        on_recorded=on_recorded,
        instance=instance_name(),
        metrics=metrics,
    )
    return Janitor(tickets=tickets, runs=runs, runner=runner)


def create_app(settings: JanitorSettings | None = None, *, clock: Clock = utc_now) -> FastStream:
    """Build the app; settings come from the environment unless given (tests pass them).

    `clock` is what "now" means to the retention rules, the lease and the schedule (tests move
    it); waiting still happens in real time.
    """
    settings = settings or load_settings(JanitorSettings, program="helpdesk-janitor")
    runtime = create_runtime(SERVICE, settings.infra)
    runs_collection = runtime.db[RUNS_COLLECTION]
    relay = OutboxRelay(runtime.publisher, [runs_collection])
    janitor = assemble(
        settings, runtime.db, clock=clock, on_recorded=relay.notify, metrics=runtime.metrics
    )
    runtime.jobs.append(relay.run)
    runtime.stoppers.append(relay.stop)
    if settings.interval_seconds > 0:
        schedule = Schedule(
            janitor.runner,
            janitor.runs,
            interval=timedelta(seconds=settings.interval_seconds),
            clock=clock,
        )
        runtime.jobs.append(schedule.scheduled_runs)

    async def setup() -> None:
        await janitor.tickets.create_indexes()
        await janitor.runs.create_indexes()

    router = build_router(
        janitor.tickets, janitor.runner, runtime.publisher, runtime.retry(TRANSIENT)
    )
    return create_service_app(runtime, routers=[router], setup=setup)


def main() -> None:
    run(create_app)
