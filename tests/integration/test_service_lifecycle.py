"""Each service runs alone as an OS process, from environment settings, and stops on SIGTERM."""

from __future__ import annotations

from pathlib import Path

import aio_pika
import aiohttp
import pytest
from helpdesk_contracts import topology
from helpdesk_harness.service_env import extra_env
from helpdesk_harness.services import SERVICES, ServiceProcess, infra_env

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("name", SERVICES)
async def test_service_starts_consumes_and_stops_on_sigterm(
    name: topology.Consumer, rabbit_url: str, mongo_url: str, mongo_db_name: str, tmp_path: Path
) -> None:
    env = infra_env(rabbit_url=rabbit_url, mongo_url=mongo_url, mongo_db=mongo_db_name)
    env.update(extra_env(name, tmp_path))
    service = ServiceProcess(name, env, tmp_path)
    service.start()
    try:
        async with aiohttp.ClientSession(base_url=service.http_base) as http:
            async with http.get("/health") as health:
                assert health.status == 200
            async with http.get("/ready") as ready:
                assert ready.status == 200, await ready.text()
                assert (await ready.json())["checks"] == {
                    "broker": True,
                    "consumers": True,
                    "mongodb": True,
                }
            async with http.get("/metrics") as metrics:
                assert metrics.status == 200
                assert "helpdesk_messages_published" in await metrics.text()
        # The service declared the whole topology and attached a consumer to each of its queues.
        connection = await aio_pika.connect(rabbit_url)
        async with connection:
            channel = await connection.channel()
            for message in topology.SUBSCRIPTIONS[name]:
                queue = await channel.declare_queue(
                    topology.queue_name(name, message), passive=True
                )
                assert (queue.declaration_result.consumer_count or 0) >= 1, message.routing_key
    finally:
        code = service.terminate(timeout=30)
    assert code == 0, service.process.log_text()
    assert service.logged("stopped")
    assert not [line for line in service.log_lines() if line.get("level") == "error"]
    # Every graceful stop (the gateway's, while Telegram never answered, included) was prompt.
    slow = [line for line in service.log_lines() if "did not finish" in str(line.get("message"))]
    assert slow == []


async def test_service_refuses_to_start_without_mongodb(rabbit_url: str, tmp_path: Path) -> None:
    env = infra_env(
        rabbit_url=rabbit_url,
        mongo_url="mongodb://127.0.0.1:9/?directConnection=true&serverSelectionTimeoutMS=500",
        mongo_db="nowhere",
    )
    env["HELPDESK_MONGO_TIMEOUT_MS"] = "500"
    env.update(extra_env("janitor", tmp_path))
    service = ServiceProcess("janitor", env, tmp_path)
    service.start(wait=False)
    assert service.process.proc is not None
    code = service.process.proc.wait(timeout=30)
    assert code != 0
    assert any(
        "MongoDB does not answer" in str(line.get("message")) for line in service.log_lines()
    )
