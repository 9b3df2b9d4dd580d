"""`helpdesk-admin dlq list|replay|purge` on real dead-letter queues.

Messages reach the dead-letter queues the way they do in production: a consumer rejects them
from the work queue and the broker dead-letters them through helpdesk.dlx.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel
from helpdesk_admin.dlq import REPLAY_HEADER
from helpdesk_contracts import topology
from helpdesk_runtime.broker import ATTEMPT_HEADER, create_broker, declare_topology
from helpdesk_runtime.settings import InfraSettings
from pydantic import SecretStr

from tests.integration.ops.admin_cli import run_admin

pytestmark = pytest.mark.integration

MAILER_QUEUE = "mailer.ticket.submitted.v1"
INBOX_QUEUE = "inbox.ticket.emailed.v1"


@pytest.fixture
async def channel(rabbit_url: str) -> AsyncIterator[AbstractChannel]:
    broker = create_broker(InfraSettings(rabbit_url=SecretStr(rabbit_url)), service="test")
    await broker.connect()
    await declare_topology(broker)
    await broker.stop()
    connection = await aio_pika.connect(rabbit_url)
    async with connection:
        yield await connection.channel()


async def _count(channel: AbstractChannel, queue: str) -> int:
    declared = await channel.declare_queue(queue, passive=True)
    return declared.declaration_result.message_count or 0


async def _wait_count(channel: AbstractChannel, queue: str, expected: int) -> None:
    for _ in range(200):
        if await _count(channel, queue) == expected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{queue} never held {expected} messages")


async def _dead_letter(channel: AbstractChannel, queue: str, bodies: list[bytes]) -> list[str]:
    """Publish to the work queue, then reject each delivery as a failing handler would."""
    ids = []
    for body in bodies:
        message_id = str(uuid.uuid4())
        ids.append(message_id)
        await channel.default_exchange.publish(
            aio_pika.Message(
                body,
                message_id=message_id,
                correlation_id=message_id,
                content_type="application/json",
                type="ticket.submitted.v1",
                headers={"x-custom": "kept", ATTEMPT_HEADER: 3},
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=queue,
        )
    work = await channel.declare_queue(queue, passive=True)
    for _ in bodies:
        for _attempt in range(100):
            delivery = await work.get(no_ack=False, fail=False)
            if delivery is not None:
                break
            await asyncio.sleep(0.05)
        assert delivery is not None
        await delivery.reject(requeue=False)
    await _wait_count(channel, topology.dlq_name(queue), len(bodies))
    return ids


async def test_list_replay_and_purge(channel: AbstractChannel, rabbit_url: str) -> None:
    bodies = [b'{"n": 1}', b'{"n": 2}', b'{"n": 3}']
    ids = await _dead_letter(channel, MAILER_QUEUE, bodies)
    await _dead_letter(channel, INBOX_QUEUE, [b'{"n": 4}', b'{"n": 5}'])

    listed = await run_admin(rabbit_url, "dlq", "list")
    assert listed.code == 0, listed.stderr
    rows = {line.split()[0]: line.split()[1:] for line in listed.stdout.splitlines()[1:-1]}
    assert rows == {MAILER_QUEUE: ["3", "0", "0"], INBOX_QUEUE: ["2", "0", "0"]}
    assert listed.stdout.splitlines()[-1] == "5 dead letter(s) in 25 queue(s)"

    replayed = await run_admin(rabbit_url, "dlq", "replay", MAILER_QUEUE)
    assert replayed.code == 0, replayed.stderr
    assert replayed.stdout.splitlines() == [f"{MAILER_QUEUE}: replayed 3", "replayed 3 message(s)"]
    assert await _count(channel, topology.dlq_name(MAILER_QUEUE)) == 0
    assert await _count(channel, INBOX_QUEUE + ".dlq") == 2  # other queues untouched
    work = await channel.declare_queue(MAILER_QUEUE, passive=True)
    back = []
    for _ in bodies:
        message = await work.get(no_ack=True, fail=True)
        assert message is not None
        back.append(message)
    # Same messages, in order, with their identity; the broker's death records and our retry
    # counter are gone (a replay starts afresh), the replay is recorded.
    assert [m.body for m in back] == bodies
    assert [m.message_id for m in back] == ids
    assert [m.correlation_id for m in back] == ids
    for message in back:
        headers = message.headers or {}
        assert headers.get("x-custom") == "kept"
        assert headers.get(REPLAY_HEADER) == 1
        assert "x-death" not in headers and ATTEMPT_HEADER not in headers
        assert message.content_type == "application/json"
        assert message.type == "ticket.submitted.v1"
        assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT

    refused = await run_admin(rabbit_url, "dlq", "purge", INBOX_QUEUE)  # no --yes, no tty
    assert refused.code != 0
    assert await _count(channel, INBOX_QUEUE + ".dlq") == 2
    purged = await run_admin(rabbit_url, "dlq", "purge", "--yes", INBOX_QUEUE + ".dlq")
    assert purged.code == 0, purged.stderr
    assert purged.stdout.splitlines() == [f"{INBOX_QUEUE}: purged 2", "purged 2 message(s)"]
    assert await _count(channel, INBOX_QUEUE + ".dlq") == 0


async def test_replay_limit_and_unknown_queue(channel: AbstractChannel, rabbit_url: str) -> None:
    await _dead_letter(channel, MAILER_QUEUE, [b"1", b"2", b"3"])
    replayed = await run_admin(rabbit_url, "dlq", "replay", "--limit", "2")
    assert replayed.code == 0, replayed.stderr
    assert replayed.stdout.splitlines()[-1] == "replayed 2 message(s)"
    assert await _count(channel, topology.dlq_name(MAILER_QUEUE)) == 1
    assert await _count(channel, MAILER_QUEUE) == 2
    unknown = await run_admin(rabbit_url, "dlq", "list", "nosuch.queue")
    assert unknown.code == 2
    assert "'nosuch.queue' is not a work queue" in unknown.stderr
