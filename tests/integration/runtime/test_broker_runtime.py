"""The shared runtime against the real RabbitMQ and the Mongo-wire server."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from faststream.rabbit import RabbitBroker, RabbitMessage, RabbitRouter
from helpdesk_contracts import topology
from helpdesk_contracts.auth.v1 import RequestCode
from helpdesk_contracts.janitor.v1 import AttachmentsPurged
from helpdesk_runtime.broker import (
    ATTEMPT_HEADER,
    Publisher,
    attempt_of,
    create_broker,
    declare_topology,
    subscriber,
)
from helpdesk_runtime.outbox import OutboxRelay, outbox_entry
from helpdesk_runtime.retry import Retry
from helpdesk_runtime.settings import InfraSettings
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase

pytestmark = pytest.mark.integration

Document = dict[str, Any]
AUTH_QUEUE = topology.queue_name("auth", RequestCode)


def _request(**overrides: Any) -> RequestCode:
    return RequestCode.model_validate(
        {"telegram_user_id": 5, "chat_id": 5, "email": "maria.ivanova@example.com"} | overrides
    )


@pytest.fixture
async def broker(rabbit_url: str) -> AsyncIterator[RabbitBroker]:
    broker = create_broker(InfraSettings(rabbit_url=SecretStr(rabbit_url)), service="test")
    await broker.connect()
    await declare_topology(broker)
    yield broker
    await broker.stop()


@pytest.fixture
async def channel(rabbit_url: str) -> AsyncIterator[AbstractChannel]:
    connection = await aio_pika.connect(rabbit_url)
    async with connection:
        yield await connection.channel()


async def _get(channel: AbstractChannel, queue: str, wait: float = 10.0) -> AbstractIncomingMessage:
    declared = await channel.declare_queue(queue, passive=True)
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        message = await declared.get(no_ack=True, fail=False)
        if message is not None:
            return message
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"nothing arrived in {queue}")
        await asyncio.sleep(0.05)


async def test_topology_declaration_is_idempotent(
    broker: RabbitBroker, channel: AbstractChannel
) -> None:
    await declare_topology(broker)  # a second service starting declares it again
    for queue, _message in topology.all_work_queues():
        await channel.declare_queue(queue.name, passive=True)
        await channel.declare_queue(topology.dlq_name(queue.name), passive=True)


async def test_published_command_reaches_its_work_queue_with_its_identity(
    broker: RabbitBroker, channel: AbstractChannel
) -> None:
    request = _request()
    await Publisher(broker, timeout=5).publish(request)
    delivered = await _get(channel, AUTH_QUEUE)
    assert delivered.message_id == str(request.message_id)
    assert delivered.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert RequestCode.model_validate_json(delivered.body) == request


async def test_command_nobody_can_receive_is_an_error_not_a_silent_loss(
    broker: RabbitBroker,
) -> None:
    publisher = Publisher(broker, timeout=5)
    with pytest.raises(Exception, match=r"(?i)unroutable|return|NO_ROUTE|312"):
        await publisher.publish_raw(
            b"{}",
            exchange="helpdesk.commands",
            routing_key="auth.nobody_listens.v1",
            message_id="x",
        )


async def test_event_without_consumer_is_kept_for_operators(
    broker: RabbitBroker, channel: AbstractChannel
) -> None:
    event = AttachmentsPurged(
        run_id=uuid.UUID("0b8e4c1e-8a55-4b5a-b3f7-92d2b1e0a6d4"),
        references=["TG-7F3A2C"],
        files=1,
        bytes=10,
    )
    await Publisher(broker, timeout=5).publish(event)
    kept = await _get(channel, topology.UNROUTED_QUEUE_NAME)
    assert kept.message_id == str(event.message_id)
    assert kept.routing_key == event.routing_key


async def test_handler_gets_typed_message_and_poison_goes_to_dead_letter_queue(
    rabbit_url: str, channel: AbstractChannel
) -> None:
    received: list[RequestCode] = []
    router = RabbitRouter()

    @subscriber(router, "auth", RequestCode)
    async def handle(message: RequestCode) -> None:
        received.append(message)

    broker = create_broker(InfraSettings(rabbit_url=SecretStr(rabbit_url)), service="test")
    broker.include_router(router)
    await broker.connect()
    await declare_topology(broker)
    async with broker:
        await broker.start()
        publisher = Publisher(broker, timeout=5)
        await publisher.publish_raw(
            b'{"not": "a request"}',
            exchange="helpdesk.commands",
            routing_key=RequestCode.routing_key,
            message_id="poison-1",
        )
        good = _request()
        await publisher.publish(good)
        dead = await _get(channel, topology.dlq_name(AUTH_QUEUE))
        for _ in range(100):
            if received:
                break
            await asyncio.sleep(0.05)
    assert dead.message_id == "poison-1"
    assert [m.message_id for m in received] == [good.message_id]  # traffic went on


async def test_retry_later_brings_the_message_back_after_the_delay(
    rabbit_url: str,
) -> None:
    deliveries: list[tuple[datetime, int]] = []
    done = asyncio.Event()
    router = RabbitRouter()
    broker = create_broker(InfraSettings(rabbit_url=SecretStr(rabbit_url)), service="test")
    publisher = Publisher(broker, timeout=5)

    @subscriber(router, "auth", RequestCode)
    async def handle(message: RequestCode, raw: RabbitMessage) -> None:
        deliveries.append((datetime.now(UTC), attempt_of(raw)))
        if attempt_of(raw) == 0:
            await publisher.retry_later(raw, queue=AUTH_QUEUE, delay_seconds=1)
        else:
            done.set()

    broker.include_router(router)
    await broker.connect()
    await declare_topology(broker)
    async with broker:
        await broker.start()
        await publisher.publish(_request())
        await asyncio.wait_for(done.wait(), timeout=15)
    assert [attempt for _, attempt in deliveries] == [0, 1]
    assert (deliveries[1][0] - deliveries[0][0]).total_seconds() >= 0.9


class DatabaseDown(Exception):
    """Stands for a service's transient exception."""


async def test_a_message_that_keeps_failing_transiently_is_dead_lettered_after_the_cap(
    rabbit_url: str, channel: AbstractChannel
) -> None:
    infra = InfraSettings(rabbit_url=SecretStr(rabbit_url), retry_limit=2)
    attempts: list[int] = []
    router = RabbitRouter()
    broker = create_broker(infra, service="test")
    retry = Retry(Publisher(broker, timeout=5), (DatabaseDown,), limit=infra.retry_limit)

    async def always_down() -> None:
        raise DatabaseDown("MongoDB unreachable")

    @subscriber(router, "auth", RequestCode)
    async def handle(message: RequestCode, raw: RabbitMessage) -> None:
        attempts.append(attempt_of(raw))
        await retry.run(raw, AUTH_QUEUE, always_down)

    broker.include_router(router)
    await broker.connect()
    await declare_topology(broker)
    request = _request()
    async with broker:
        await broker.start()
        await Publisher(broker, timeout=5).publish(request)
        # Tiers 1 s then 5 s, then the third failure goes to the dead-letter queue.
        dead = await _get(channel, topology.dlq_name(AUTH_QUEUE), wait=30)
    assert attempts == [0, 1, 2]
    assert dead.message_id == str(request.message_id)
    assert dead.headers[ATTEMPT_HEADER] == 2
    assert RequestCode.model_validate_json(dead.body) == request
    work = await channel.declare_queue(AUTH_QUEUE, passive=True)
    assert work.declaration_result.message_count == 0


async def test_outbox_relay_publishes_pending_events_once_and_clears_them(
    broker: RabbitBroker, channel: AbstractChannel, mongo_db: AsyncDatabase[Document]
) -> None:
    tickets = mongo_db["tickets"]
    first, second = _request(), _request(telegram_user_id=6, chat_id=6)
    await tickets.insert_one({"_id": "t1", "outbox": [outbox_entry(first), outbox_entry(second)]})
    await tickets.insert_one({"_id": "t2", "outbox": []})
    relay = OutboxRelay(Publisher(broker, timeout=5), [tickets])
    assert await relay.run_once() == 2
    assert await relay.run_once() == 0
    got = [await _get(channel, AUTH_QUEUE), await _get(channel, AUTH_QUEUE)]
    assert [m.message_id for m in got] == [str(first.message_id), str(second.message_id)]
    assert json.loads(got[1].body)["telegram_user_id"] == 6
    doc = await tickets.find_one({"_id": "t1"})
    assert doc is not None and doc["outbox"] == []


async def test_stopping_relay_publishes_what_was_written_before_it_returns(
    broker: RabbitBroker, channel: AbstractChannel, mongo_db: AsyncDatabase[Document]
) -> None:
    tickets = mongo_db["tickets"]
    # An hour between passes: only stop() can make the relay look again.
    relay = OutboxRelay(Publisher(broker, timeout=5), [tickets], interval_seconds=3600)
    running = asyncio.create_task(relay.run())
    try:
        await tickets.insert_one({"_id": "t0", "outbox": [outbox_entry(_request())]})
        relay.notify()
        await _get(channel, AUTH_QUEUE)  # the relay is idle now, waiting for an hour
        late = _request(telegram_user_id=7, chat_id=7)  # a handler finishing during shutdown
        await tickets.insert_one({"_id": "t1", "outbox": [outbox_entry(late)]})
        async with asyncio.timeout(10):
            await relay.stop()
        assert running.done() and running.exception() is None
        doc = await tickets.find_one({"_id": "t1"})
        assert doc is not None and doc["outbox"] == []
        assert (await _get(channel, AUTH_QUEUE)).message_id == str(late.message_id)
    finally:
        running.cancel()


def test_attempt_header_name_is_stable() -> None:
    # Messages already waiting in delay queues carry this header; renaming it resets counts.
    assert ATTEMPT_HEADER == "x-helpdesk-attempt"
