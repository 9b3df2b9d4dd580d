"""/ready follows the service's dependencies: 503 while MongoDB or RabbitMQ is gone, 200 again
once it is back, without restarting the service. /health stays 200 throughout (alive).

The service is a test-only app built with the shared runtime (create_runtime + create_service_app,
as every service is), started in-process against a private mongoeco process and, for the broker
case, a cuttable TCP proxy in front of the machine's RabbitMQ.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import pytest
from faststream import FastStream
from faststream.rabbit import RabbitRouter
from helpdesk_contracts.admin.v1 import RunJanitor
from helpdesk_harness.mongo import MongoEcoServer
from helpdesk_harness.procs import free_port
from helpdesk_harness.tcp_proxy import TcpProxy
from helpdesk_runtime.broker import Publisher, create_broker, subscriber
from helpdesk_runtime.service import create_runtime, create_service_app
from helpdesk_runtime.settings import InfraSettings
from pydantic import SecretStr

pytestmark = pytest.mark.integration

ALL_READY = {"broker": True, "consumers": True, "mongodb": True}


def _app(
    rabbit_url: str, mongo_url: str, http_port: int, received: asyncio.Queue[RunJanitor]
) -> FastStream:
    infra = InfraSettings(
        rabbit_url=SecretStr(rabbit_url),
        mongo_url=SecretStr(mongo_url),
        mongo_db="readiness",
        mongo_timeout_ms=500,
        http_port=http_port,
    )
    runtime = create_runtime("readytest", infra)
    router = RabbitRouter()

    @subscriber(router, "janitor", RunJanitor)
    async def handle(command: RunJanitor) -> None:
        received.put_nowait(command)

    return create_service_app(runtime, routers=[router])


async def _ready(http: aiohttp.ClientSession) -> tuple[int, dict[str, Any]]:
    async with http.get("/ready") as response:
        body: dict[str, Any] = await response.json()
        return response.status, body


async def _until(
    http: aiohttp.ClientSession, status: int, checks: dict[str, bool], within: float = 30.0
) -> None:
    deadline = time.monotonic() + within
    seen: tuple[int, dict[str, Any]] = (0, {})
    while time.monotonic() < deadline:
        seen = await _ready(http)
        if seen == (status, {"ready": status == 200, "checks": checks}):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"/ready never became {status} {checks}; last {seen}")


@pytest.fixture
async def mongo(tmp_path: Path) -> AsyncIterator[MongoEcoServer]:
    server = MongoEcoServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_ready_flips_while_mongodb_is_down(rabbit_url: str, mongo: MongoEcoServer) -> None:
    port = free_port()
    app = _app(rabbit_url, mongo.url, port, asyncio.Queue())
    async with app, aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as http:
        assert await _ready(http) == (200, {"ready": True, "checks": ALL_READY})
        mongo.stop()
        await _until(http, 503, {**ALL_READY, "mongodb": False})
        async with http.get("/health") as health:
            assert health.status == 200
        mongo.start()  # same port: the client reconnects by itself
        await _until(http, 200, ALL_READY)


async def test_ready_flips_while_rabbitmq_is_unreachable(
    rabbit_url: str, mongo: MongoEcoServer
) -> None:
    parts = urlsplit(rabbit_url)
    assert parts.hostname is not None and parts.port is not None
    proxy = TcpProxy(parts.hostname, parts.port)
    proxy.start()
    netloc = f"{parts.username}:{parts.password}@127.0.0.1:{proxy.port}"
    through_proxy = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    port = free_port()
    received: asyncio.Queue[RunJanitor] = asyncio.Queue()
    app = _app(through_proxy, mongo.url, port, received)
    try:
        async with app, aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as http:
            assert await _ready(http) == (200, {"ready": True, "checks": ALL_READY})
            proxy.cut()
            status, body = await _wait_not_ready(http)
            assert status == 503 and body["checks"]["broker"] is False
            async with http.get("/health") as health:
                assert health.status == 200
            proxy.restore()
            await _until(http, 200, ALL_READY, within=60)
            # Ready means consuming again: a command published now reaches the handler.
            command = RunJanitor(requested_by="test")
            await _publish(rabbit_url, command)
            async with asyncio.timeout(30):
                assert (await received.get()).message_id == command.message_id
    finally:
        proxy.stop()


async def _publish(rabbit_url: str, command: RunJanitor) -> None:
    broker = create_broker(InfraSettings(rabbit_url=SecretStr(rabbit_url)), service="test")
    await broker.connect()
    try:
        await Publisher(broker, timeout=10).publish(command)
    finally:
        await broker.stop()


async def _wait_not_ready(http: aiohttp.ClientSession) -> tuple[int, dict[str, Any]]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, body = await _ready(http)
        if status == 503:
            return status, body
        await asyncio.sleep(0.1)
    raise AssertionError("/ready stayed 200 with the broker unreachable")
