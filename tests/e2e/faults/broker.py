"""The test's own view of the broker (straight to RabbitMQ, never through the fault proxy)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from helpdesk_contracts import topology


@dataclass(frozen=True, slots=True)
class QueueState:
    messages: int
    consumers: int


def work_queue_names() -> list[str]:
    return [queue.name for queue, _ in topology.all_work_queues()]


async def _state(channel: AbstractChannel, name: str) -> QueueState:
    queue = await channel.declare_queue(name, passive=True)
    declared = queue.declaration_result
    return QueueState(int(declared.message_count or 0), int(declared.consumer_count or 0))


async def queue_states(url: str, names: list[str]) -> dict[str, QueueState]:
    async with await aio_pika.connect(url) as connection:
        channel = await connection.channel()
        return {name: await _state(channel, name) for name in names}


async def without_consumer(url: str) -> list[str]:
    """Work queues nobody consumes right now."""
    states = await queue_states(url, work_queue_names())
    return [name for name, state in states.items() if state.consumers == 0]


async def wait_all_consumed(url: str, timeout: float) -> None:  # noqa: ASYNC109 - a deadline
    """Until every work queue has a consumer again."""
    deadline = time.monotonic() + timeout
    while missing := await without_consumer(url):
        if time.monotonic() > deadline:
            raise AssertionError(f"no consumer on {missing} after {timeout}s")
        await asyncio.sleep(0.5)


async def dead_letters(url: str) -> dict[str, int]:
    """Dead-letter queues that hold anything: a message there is a message lost to its service."""
    names = [topology.dlq_name(name) for name in work_queue_names()]
    states = await queue_states(url, names)
    return {name: state.messages for name, state in states.items() if state.messages}


async def publish_to_queue(url: str, queue: str, body: bytes, message_id: str) -> None:
    """Straight into a work queue (default exchange), as a broken or hostile publisher might."""
    async with await aio_pika.connect(url) as connection:
        channel = await connection.channel(publisher_confirms=True)
        message = aio_pika.Message(
            body,
            message_id=message_id,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        await channel.default_exchange.publish(message, routing_key=queue, mandatory=True)


async def take_dead_letters(
    url: str,
    wanted: dict[str, str],
    timeout: float,  # noqa: ASYNC109 - a deadline
) -> dict[str, str]:
    """Wait until each DLQ in `wanted` (dlq -> message_id) holds that message; take them out.

    Returns what was found per DLQ (message ids not ours are left in place and reported).
    """
    found: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    async with await aio_pika.connect(url) as connection:
        channel = await connection.channel()
        while len(found) < len(wanted) and time.monotonic() < deadline:
            for dlq, message_id in wanted.items():
                if dlq in found:
                    continue
                queue = await channel.declare_queue(dlq, passive=True)
                message: AbstractIncomingMessage | None = await queue.get(fail=False)
                if message is None:
                    continue
                if message.message_id == message_id:
                    await message.ack()
                    found[dlq] = message_id
                else:
                    await message.nack(requeue=True)
                    found[dlq] = f"foreign:{message.message_id}"
            await asyncio.sleep(0.2)
    return found
