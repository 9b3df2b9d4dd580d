"""One way to start and stop a service: connect, declare topology, run, close on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, cast

from faststream import FastStream
from faststream.rabbit import RabbitBroker, RabbitRouter
from helpdesk_contracts import topology
from pydantic import BaseModel
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from helpdesk_runtime.audit import NONCE_COLLECTION, AdminGuard, NonceStore
from helpdesk_runtime.broker import Publisher, create_broker, declare_topology
from helpdesk_runtime.http import OpsServer, ReadinessCheck
from helpdesk_runtime.logs import configure_logging
from helpdesk_runtime.metrics import Metrics
from helpdesk_runtime.mongo import Document, create_mongo_client, ping
from helpdesk_runtime.retry import Retry
from helpdesk_runtime.settings import InfraSettings

BackgroundJob = Callable[[], Coroutine[Any, Any, None]]
GracefulStop = Callable[[], Awaitable[None]]
"""Asks a background job to finish its work under way and waits for it (bounded by the caller)."""


@dataclass
class ServiceRuntime:
    """The clients a service's handlers use; built once in `create_app`."""

    service: str
    infra: InfraSettings
    broker: RabbitBroker
    publisher: Publisher
    mongo: AsyncMongoClient[Document]
    db: AsyncDatabase[Document]
    metrics: Metrics
    guard: AdminGuard
    jobs: list[BackgroundJob] = field(default_factory=list)
    stoppers: list[GracefulStop] = field(default_factory=list)
    """Run on shutdown after the consumers stopped and before the jobs are cancelled."""
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def log(self) -> logging.Logger:
        return logging.getLogger(f"helpdesk.{self.service}")

    def retry(self, transient: tuple[type[BaseException], ...]) -> Retry:
        """The retry rule for this service's transient exceptions, with the shared limit."""
        return Retry(self.publisher, transient, limit=self.infra.retry_limit)


def create_runtime(
    service: str, infra: InfraSettings, *, settings: BaseModel | None = None
) -> ServiceRuntime:
    """`settings`: the service's own settings, whose secret values the logs must never show."""
    configure_logging(
        service,
        level=infra.log_level,
        fmt=infra.log_format,
        secrets_from=[infra] if settings is None else [infra, settings],
    )
    metrics = Metrics(service)
    mongo = create_mongo_client(infra, app_name=f"helpdesk-{service}")
    db = mongo[infra.mongo_db]
    guard = AdminGuard(
        service=service,
        public_keys=infra.admin_public_keys,
        nonces=NonceStore(db[NONCE_COLLECTION]),
    )
    broker = create_broker(infra, service=service, metrics=metrics, guard=guard)
    publisher = Publisher(broker, timeout=infra.publish_timeout_seconds, metrics=metrics)
    guard.publisher = publisher  # rejections are answered like any AdminCommandCompleted
    return ServiceRuntime(
        service=service,
        infra=infra,
        broker=broker,
        publisher=publisher,
        mongo=mongo,
        db=db,
        metrics=metrics,
        guard=guard,
    )


def _readiness_checks(runtime: ServiceRuntime) -> dict[str, ReadinessCheck]:
    async def broker() -> bool:
        return await runtime.broker.ping(timeout=1.0)

    async def consumers() -> bool:
        subscribers = list(runtime.broker.subscribers)
        return bool(subscribers) and all(getattr(s, "running", False) for s in subscribers)

    async def mongodb() -> bool:
        await ping(runtime.mongo)
        return True

    return {"broker": broker, "consumers": consumers, "mongodb": mongodb}


def create_service_app(
    runtime: ServiceRuntime,
    *,
    routers: Sequence[RabbitRouter] = (),
    setup: Callable[[], Awaitable[None]] | None = None,
    teardown: Callable[[], Awaitable[None]] | None = None,
) -> FastStream:
    """A FastStream app that checks MongoDB, declares the topology, then consumes.

    `setup` runs after MongoDB answered and before any consumer starts (indexes, caches);
    `runtime.jobs` start once consuming has begun. Shutdown stops the consumers first (in-flight
    handlers finish within the graceful timeout), then runs `runtime.stoppers` (e.g. a last outbox
    pass, so events of those handlers leave while the broker is still connected), then cancels
    the jobs, and only then closes the broker connection.
    """
    for router in routers:
        runtime.broker.include_router(router)
    ops: OpsServer | None = None
    if runtime.infra.http_port:
        ops = OpsServer(
            host=runtime.infra.http_host,
            port=runtime.infra.http_port,
            metrics=runtime.metrics,
            checks=_readiness_checks(runtime),
        )
    lifecycle = _Lifecycle(runtime, ops, setup, teardown)
    return FastStream(
        runtime.broker,
        logger=logging.getLogger(f"helpdesk.{runtime.service}.app"),
        on_startup=[lifecycle.on_startup],
        after_startup=[lifecycle.after_startup],
        on_shutdown=[lifecycle.on_shutdown],
        after_shutdown=[lifecycle.after_shutdown],
    )


@dataclass
class _Lifecycle:
    """The four FastStream hooks of one service, in the order FastStream calls them."""

    runtime: ServiceRuntime
    ops: OpsServer | None
    setup: Callable[[], Awaitable[None]] | None
    teardown: Callable[[], Awaitable[None]] | None

    @property
    def log(self) -> logging.Logger:
        return self.runtime.log

    async def on_startup(self) -> None:
        if self.ops is not None:
            await self.ops.start()  # /health answers while the rest is still starting
        try:
            await ping(self.runtime.mongo)
        except Exception as exc:
            self.log.error("MongoDB does not answer: %s", type(exc).__name__)
            raise
        await self.runtime.broker.connect()
        await self._declare_topology()
        await self._prepare_admin_commands()
        if self.setup is not None:
            await self.setup()

    async def after_startup(self) -> None:
        runtime = self.runtime
        runtime._tasks = [
            asyncio.create_task(_guard(job, self.log), name=f"{runtime.service}:{job.__name__}")
            for job in runtime.jobs
        ]
        self.log.info("started", extra={"jobs": [job.__name__ for job in runtime.jobs]})

    async def on_shutdown(self) -> None:
        self.log.info("stopping")
        await self._stop_consumers()
        await self._run_stoppers()
        await self._cancel_jobs()

    async def after_shutdown(self) -> None:
        if self.teardown is not None:
            await self.teardown()
        await self.runtime.mongo.close()
        if self.ops is not None:
            await self.ops.stop()
        self.log.info("stopped")

    async def _declare_topology(self) -> None:
        runtime = self.runtime
        own = runtime.infra.declare_topology == "own" and runtime.service in topology.CONSUMERS
        await declare_topology(
            runtime.broker, only=cast(topology.Consumer, runtime.service) if own else None
        )

    async def _prepare_admin_commands(self) -> None:
        guard = self.runtime.guard
        if _takes_admin_commands(self.runtime) and isinstance(guard.nonces, NonceStore):
            await guard.nonces.ensure_indexes()
            if not guard.public_keys:
                self.log.warning(
                    "HELPDESK_ADMIN_PUBLIC_KEYS is empty: every admin command will be rejected"
                )

    async def _stop_consumers(self) -> None:
        # Subscriber.stop waits for in-flight handlers; broker.stop() later finds them stopped.
        stopped = await asyncio.gather(
            *(sub.stop() for sub in self.runtime.broker.subscribers), return_exceptions=True
        )
        for error in stopped:
            if isinstance(error, Exception):
                self.log.error("a consumer did not stop cleanly: %r", error)

    async def _run_stoppers(self) -> None:
        timeout = self.runtime.infra.graceful_timeout_seconds
        for stop in self.runtime.stoppers:
            try:
                async with asyncio.timeout(timeout):
                    await stop()
            except TimeoutError:
                self.log.warning("%s did not finish within %.0f s", _name(stop), timeout)
            except Exception:
                self.log.exception("graceful stop of %s failed", _name(stop))

    async def _cancel_jobs(self) -> None:
        for task in self.runtime._tasks:
            task.cancel()
        for task in self.runtime._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.runtime._tasks = []


def _takes_admin_commands(runtime: ServiceRuntime) -> bool:
    names = {getattr(getattr(s, "queue", None), "name", None) for s in runtime.broker.subscribers}
    return bool(names & runtime.guard.queues.keys())


def _name(stop: GracefulStop) -> str:
    return getattr(stop, "__qualname__", repr(stop))


async def _guard(job: BackgroundJob, log: logging.Logger) -> None:
    """Keep a background job alive: log a crash and start it again after a pause."""
    while True:
        try:
            await job()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background job %s crashed; restarting in 5 s", job.__name__)
            await asyncio.sleep(5)


def run(app: FastStream | Callable[[], FastStream]) -> None:
    """Console-script entry: run until SIGINT/SIGTERM, then shut down gracefully.

    Given the app's factory, a failure while building the app is caught too. Whatever ends the
    process with an error (MongoDB or RabbitMQ unreachable at start-up, a broken template, a
    crash) becomes one log line in the service's format, traceback inside, and exit status 1:
    log collectors read JSON lines, and a raw traceback would be a hundred lines of noise.
    """
    try:
        asyncio.run((app if isinstance(app, FastStream) else app()).run())
    except Exception:
        log = logging.getLogger("helpdesk")
        if not logging.getLogger().handlers:  # failed before the runtime configured logging
            configure_logging(_program().removeprefix("helpdesk-"))
        log.critical("cannot run, stopping", exc_info=True)
        raise SystemExit(1) from None


def _program() -> str:
    """helpdesk-mailer, also when started as `python -m helpdesk_mailer`."""
    path = PurePath(sys.argv[0] if sys.argv and sys.argv[0] else "helpdesk")
    return (path.parent.name if path.name == "__main__.py" else path.name).replace("_", "-")
