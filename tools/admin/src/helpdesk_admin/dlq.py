"""Dead-letter queues: count, replay into the work queue, purge.

Every work queue `<consumer>.<routing_key>` dead-letters into `<queue>.dlq` (see
helpdesk_contracts.topology). Replay takes messages one at a time with a manual ack, publishes a
copy to the default exchange with the work queue's name as routing key (persistent, mandatory,
confirmed) and only then acks the dead letter: a failure leaves the message where it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage
from aio_pika.exceptions import ChannelClosed
from aiormq.exceptions import ChannelNotFoundEntity
from helpdesk_contracts import topology
from helpdesk_runtime.broker import ATTEMPT_HEADER

REPLAY_HEADER = "x-helpdesk-replays"
"""How many times an operator replayed this message out of a dead-letter queue."""

# Broker bookkeeping from the previous life of the message; a replayed message starts afresh.
_DROPPED_HEADERS = frozenset(
    {
        "x-death",
        "x-delivery-count",
        "x-first-death-exchange",
        "x-first-death-queue",
        "x-first-death-reason",
        "x-last-death-exchange",
        "x-last-death-queue",
        "x-last-death-reason",
        ATTEMPT_HEADER,
    }
)


class DlqError(Exception):
    """A dead-letter operation that cannot go on."""


@dataclass(frozen=True, slots=True)
class QueueCount:
    """Messages and consumers of one work queue and of its dead-letter queue (None: missing)."""

    queue: str
    ready: int | None
    consumers: int | None
    dead_letters: int | None


def work_queues() -> list[str]:
    """Every work queue of the system, in topology order."""
    return [queue.name for queue, _message in topology.all_work_queues()]


def resolve(name: str) -> str:
    """The work queue meant by `name` (a work queue or its `.dlq`); DlqError if unknown."""
    queue = name.removesuffix(".dlq")
    if queue not in work_queues():
        raise DlqError(f"{name!r} is not a work queue; `helpdesk-admin dlq list` shows them")
    return queue


async def _passive(
    connection: AbstractConnection, channel: AbstractChannel, name: str
) -> tuple[AbstractChannel, tuple[int, int] | None]:
    """(message count, consumer count) of a queue, or None if it does not exist.

    A passive declare of a missing queue closes the channel, so a fresh one is returned too.
    """
    try:
        declared = await channel.declare_queue(name, passive=True)
    except (ChannelNotFoundEntity, ChannelClosed):
        return await connection.channel(), None
    result = declared.declaration_result
    return channel, (result.message_count or 0, result.consumer_count or 0)


async def counts(connection: AbstractConnection, queues: Iterable[str]) -> list[QueueCount]:
    channel = await connection.channel()
    rows = []
    try:
        for queue in queues:
            channel, work = await _passive(connection, channel, queue)
            channel, dead = await _passive(connection, channel, topology.dlq_name(queue))
            rows.append(
                QueueCount(
                    queue=queue,
                    ready=work[0] if work else None,
                    consumers=work[1] if work else None,
                    dead_letters=dead[0] if dead else None,
                )
            )
    finally:
        await channel.close()
    return rows


def _replay_copy(message: AbstractIncomingMessage) -> aio_pika.Message:
    headers: dict[str, Any] = {
        key: value for key, value in (message.headers or {}).items() if key not in _DROPPED_HEADERS
    }
    previous = headers.get(REPLAY_HEADER, 0)
    headers[REPLAY_HEADER] = (previous if isinstance(previous, int) else 0) + 1
    return aio_pika.Message(
        message.body,
        headers=headers,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        priority=message.priority,
        correlation_id=message.correlation_id,
        message_id=message.message_id,
        timestamp=message.timestamp,
        type=message.type,
        app_id=message.app_id,
    )


async def replay(
    connection: AbstractConnection,
    queue: str,
    *,
    limit: int | None = None,
    publish_timeout: float = 10.0,
) -> int:
    """Move up to `limit` (default: all present now) dead letters back; returns how many.

    Counting first bounds the loop: a message that fails again at once and returns to the
    dead-letter queue is not replayed twice in one call.
    """
    channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    try:
        channel, dead = await _passive(connection, channel, topology.dlq_name(queue))
        if dead is None:
            raise DlqError(f"{topology.dlq_name(queue)} does not exist (topology not declared?)")
        wanted = dead[0] if limit is None else min(limit, dead[0])
        dlq = await channel.declare_queue(topology.dlq_name(queue), passive=True)
        moved = 0
        while moved < wanted:
            message = await dlq.get(no_ack=False, fail=False)
            if message is None:
                break
            try:
                await channel.default_exchange.publish(
                    _replay_copy(message),
                    routing_key=queue,
                    mandatory=True,
                    timeout=publish_timeout,
                )
            except Exception as exc:
                await message.nack(requeue=True)
                raise DlqError(
                    f"replay into {queue} failed after {moved} message(s): {type(exc).__name__}"
                ) from exc
            await message.ack()
            moved += 1
        return moved
    finally:
        await channel.close()


async def purge(connection: AbstractConnection, queue: str) -> int:
    """Empty `<queue>.dlq`; returns how many messages were dropped."""
    channel = await connection.channel()
    try:
        channel, dead = await _passive(connection, channel, topology.dlq_name(queue))
        if dead is None:
            raise DlqError(f"{topology.dlq_name(queue)} does not exist (topology not declared?)")
        dlq = await channel.declare_queue(topology.dlq_name(queue), passive=True)
        result = await dlq.purge()
        return int(result.message_count or 0)
    finally:
        await channel.close()
