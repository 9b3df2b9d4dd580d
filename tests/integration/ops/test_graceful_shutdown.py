"""SIGTERM during a slow handler loses nothing: the handler finishes, or its message stays queued.

The service stops taking on messages, lets the handlers in flight run for up to
HELPDESK_GRACEFUL_TIMEOUT_SECONDS, and acknowledges only what completed; every message it
received but did not complete goes back to the queue for the next instance.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import aio_pika
import pytest
from helpdesk_contracts import topology
from helpdesk_contracts.admin.v1 import RunJanitor
from helpdesk_harness.procs import ServerProcess
from helpdesk_harness.services import infra_env
from helpdesk_runtime.broker import Publisher, create_broker, declare_topology
from helpdesk_runtime.settings import InfraSettings
from pydantic import SecretStr

from tests.support import REPO_ROOT

pytestmark = pytest.mark.integration

QUEUE = topology.queue_name("janitor", RunJanitor)


async def _publish(rabbit_url: str, count: int) -> list[str]:
    broker = create_broker(InfraSettings(rabbit_url=SecretStr(rabbit_url)), service="test")
    await broker.connect()
    try:
        await declare_topology(broker)
        publisher = Publisher(broker, timeout=10)
        commands = [RunJanitor(requested_by="test") for _ in range(count)]
        for command in commands:
            await publisher.publish(command)
        return [str(command.message_id) for command in commands]
    finally:
        await broker.stop()


async def _queued(rabbit_url: str, queue_name: str = QUEUE) -> int:
    connection = await aio_pika.connect(rabbit_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, passive=True)
        return queue.declaration_result.message_count or 0


def _start(
    rabbit_url: str, mongo_url: str, db: str, workdir: Path, *, handler: float, grace: float
) -> ServerProcess:
    markers = workdir / "markers"
    markers.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env |= infra_env(rabbit_url=rabbit_url, mongo_url=mongo_url, mongo_db=db)
    env |= {
        "HELPDESK_GRACEFUL_TIMEOUT_SECONDS": str(grace),
        "SLOW_MARKERS_DIR": str(markers),
        "SLOW_HANDLER_SECONDS": str(handler),
    }
    process = ServerProcess(
        [sys.executable, "-m", "tests.integration.ops.slow_service"],
        log_path=workdir / "service.log",
        env=env,
        cwd=REPO_ROOT,
    )
    process.start()
    return process


async def _wait_started(markers: Path, process: ServerProcess) -> None:
    deadline = time.monotonic() + 60
    while not _names(markers, ".started"):
        assert process.running() and time.monotonic() < deadline, process.log_text()
        await asyncio.sleep(0.05)


def _names(markers: Path, suffix: str) -> set[str]:
    return {path.name.removesuffix(suffix) for path in markers.glob(f"*{suffix}")}


async def test_sigterm_stops_consuming_and_lets_running_handlers_finish(
    rabbit_url: str, mongo_url: str, mongo_db_name: str, tmp_path: Path
) -> None:
    first = await _publish(rabbit_url, 3)
    process = _start(rabbit_url, mongo_url, mongo_db_name, tmp_path, handler=5.0, grace=20.0)
    markers = tmp_path / "markers"
    try:
        deadline = time.monotonic() + 60
        while len(_names(markers, ".started")) < 3:  # FastStream runs them concurrently
            assert process.running() and time.monotonic() < deadline, process.log_text()
            await asyncio.sleep(0.05)
        process.signal(signal.SIGTERM)  # as `docker stop` does
        while '"message": "stopping"' not in process.log_text():
            assert time.monotonic() < deadline, process.log_text()
            await asyncio.sleep(0.02)
        assert _names(markers, ".finished") == set(), "handlers were not in flight at SIGTERM"
        # What arrives during the shutdown is not taken on: it waits for the next instance.
        later = await _publish(rabbit_url, 2)
        assert process.proc is not None
        code = await asyncio.to_thread(process.proc.wait, 30)
    finally:
        process.stop()
    assert code == 0, process.log_text()
    # Every handler that began completed (and was acked); none began after SIGTERM.
    assert _names(markers, ".started") == _names(markers, ".finished") == set(first)
    assert await _queued(rabbit_url) == 2
    assert not set(later) & _names(markers, ".started")
    assert '"message": "stopped"' in process.log_text()


async def test_a_handler_outliving_the_grace_period_leaves_its_message_queued(
    rabbit_url: str, mongo_url: str, mongo_db_name: str, tmp_path: Path
) -> None:
    [message_id] = await _publish(rabbit_url, 1)
    process = _start(rabbit_url, mongo_url, mongo_db_name, tmp_path, handler=60.0, grace=1.0)
    markers = tmp_path / "markers"
    try:
        await _wait_started(markers, process)
        began = time.monotonic()
        process.signal(signal.SIGTERM)
        if process.proc is not None:
            await asyncio.to_thread(process.proc.wait, 30)
        stopped_after = time.monotonic() - began
    finally:
        process.stop()
    assert stopped_after < 20, "the service waited for the handler instead of its grace period"
    assert _names(markers, ".finished") == set()
    # Neither acknowledged nor dead-lettered: the broker holds it for the next instance.
    assert await _queued(rabbit_url) == 1
    assert await _queued(rabbit_url, topology.dlq_name(QUEUE)) == 0
    connection = await aio_pika.connect(rabbit_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(QUEUE, passive=True)
        message = await queue.get(no_ack=True, fail=True)
        assert message is not None and message.message_id == message_id
