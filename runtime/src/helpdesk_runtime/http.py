"""The operator's HTTP endpoints: /health (alive), /ready (can do its work), /metrics."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from helpdesk_runtime.metrics import Metrics

ReadinessCheck = Callable[[], Awaitable[bool]]

logger = logging.getLogger("helpdesk.http")


class OpsServer:
    """A tiny aiohttp server; readiness is the AND of named checks, each bounded in time."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        metrics: Metrics,
        checks: Mapping[str, ReadinessCheck],
        check_timeout: float = 2.0,
    ) -> None:
        self.host = host
        self.port = port
        self.metrics = metrics
        self.checks = dict(checks)
        self.check_timeout = check_timeout
        self._runner: web.AppRunner | None = None

    async def readiness(self) -> dict[str, bool]:
        async def run(check: ReadinessCheck) -> bool:
            try:
                return await asyncio.wait_for(check(), timeout=self.check_timeout)
            except Exception:  # a failing check means "not ready", never an HTTP 500
                return False

        names = list(self.checks)
        results = await asyncio.gather(*(run(self.checks[name]) for name in names))
        return dict(zip(names, results, strict=True))

    async def _health(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "alive", "service": self.metrics.service})

    async def _ready(self, _: web.Request) -> web.Response:
        checks = await self.readiness()
        ready = all(checks.values())
        return web.Response(
            text=json.dumps({"ready": ready, "checks": checks}),
            status=200 if ready else 503,
            content_type="application/json",
        )

    async def _metrics(self, _: web.Request) -> web.Response:
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/health", self._health)
        app.router.add_get("/ready", self._ready)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        logger.info("ops endpoints listening", extra={"host": self.host, "port": self.port})

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
