"""The example consumer printed in docs/events.md works: it binds its own queue to
helpdesk.events and receives the ticket events the services publish."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from datetime import UTC, datetime
from typing import Any

import aio_pika
import aio_pika.exceptions
import pytest
from helpdesk_contracts.ticket.v1 import TicketStatus, TicketStatusChanged
from helpdesk_runtime.broker import Publisher, create_broker, declare_topology
from helpdesk_runtime.settings import InfraSettings
from pydantic import SecretStr

from tests.support import REPO_ROOT

pytestmark = pytest.mark.integration

EXAMPLE_URL = "amqp://integrator:secret@rabbitmq.example.com/helpdesk"


def _example_code() -> str:
    text = (REPO_ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 1
    code: str = blocks[0]
    assert EXAMPLE_URL in code and code.rstrip().endswith("asyncio.run(main())")
    return code


async def _consumers(rabbit_url: str, queue: str) -> int:
    connection = await aio_pika.connect(rabbit_url)
    async with connection:
        channel = await connection.channel()
        try:
            declared = await channel.declare_queue(queue, passive=True)
        except aio_pika.exceptions.ChannelClosed:
            return 0
        return declared.declaration_result.consumer_count or 0


async def test_the_documented_consumer_receives_ticket_events(rabbit_url: str) -> None:
    code = _example_code().replace(EXAMPLE_URL, rabbit_url)
    code = code.rstrip().removesuffix("asyncio.run(main())")  # the test runs it in its loop
    namespace: dict[str, Any] = {"__name__": "example_consumer"}
    exec(compile(code, "docs/events.md", "exec"), namespace)  # noqa: S102 - our own document

    broker = create_broker(InfraSettings(rabbit_url=SecretStr(rabbit_url)), service="test")
    await broker.connect()
    await declare_topology(broker)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        consumer = asyncio.create_task(namespace["main"]())
        try:
            event = TicketStatusChanged(
                ticket_id="6745a1f2c3d4e5f601234560",
                reference="TG-7F3A2C",
                status=TicketStatus.REGISTERED,
                changed_at=datetime(2026, 11, 26, 10, 31, tzinfo=UTC),
            )
            # Publish once the example consumes (it binds its queue before consuming): events
            # published earlier would go to helpdesk.unrouted, as for any unbound key.
            for _ in range(300):
                if await _consumers(rabbit_url, "crm.helpdesk-tickets") >= 1:
                    break
                await asyncio.sleep(0.1)
            await Publisher(broker, timeout=5).publish(event)
            for _ in range(300):
                if str(event.message_id) in output.getvalue():
                    break
                await asyncio.sleep(0.1)
        finally:
            consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consumer
            await broker.stop()
    assert output.getvalue().splitlines()[0] == (
        f"ticket.status_changed.v1 {event.message_id} TG-7F3A2C"
    )
