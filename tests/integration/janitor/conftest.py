"""The janitor against the real RabbitMQ and the Mongo-wire server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage
from helpdesk_contracts.admin.v1 import AdminCommandCompleted, RunJanitor
from helpdesk_contracts.base import Message
from helpdesk_contracts.janitor.v1 import AttachmentsPurged, JanitorRunCompleted
from helpdesk_contracts.runtime.settings import InfraSettings
from helpdesk_janitor.settings import JanitorSettings
from pydantic import SecretStr

SettingsFactory = Callable[..., JanitorSettings]


def _settings_factory(rabbit_url: str, mongo_url: str, mongo_db_name: str) -> SettingsFactory:
    def make(**overrides: Any) -> JanitorSettings:
        infra = InfraSettings(
            rabbit_url=SecretStr(rabbit_url),
            mongo_url=SecretStr(mongo_url),
            mongo_db=mongo_db_name,
            graceful_timeout_seconds=5.0,
        )
        values: dict[str, Any] = {"interval_seconds": 0, "quarantine_days": 14} | overrides
        return JanitorSettings(infra=infra, **values)

    return make


@pytest.fixture
def janitor_settings(rabbit_url: str, mongo_url: str, mongo_db_name: str) -> SettingsFactory:
    """Settings for an in-process janitor app on this test's vhost and database."""
    return _settings_factory(rabbit_url, mongo_url, mongo_db_name)


@pytest.fixture
def offline_settings(mongo_url: str, mongo_db_name: str) -> SettingsFactory:
    """Settings for the janitor's parts without a broker (tests that call the runner)."""
    return _settings_factory("amqp://guest:guest@127.0.0.1:9/", mongo_url, mongo_db_name)


class Clock:
    """A clock the test sets; the janitor reads "now" from it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Bus:
    """The test's side of RabbitMQ: publishes like a neighbour, and hears what the janitor says
    on `helpdesk.events` through a queue of its own."""

    def __init__(self, channel: aio_pika.abc.AbstractChannel) -> None:
        self.channel = channel
        self.heard: list[Message] = []
        self._arrived = asyncio.Event()

    async def listen(self) -> None:
        events = await self.channel.get_exchange("helpdesk.events")
        queue = await self.channel.declare_queue(exclusive=True, auto_delete=True)
        for key in ("janitor.#", AdminCommandCompleted.routing_key):
            await queue.bind(events, routing_key=key)
        await queue.consume(self._on_message)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        async with message.process():
            kinds: dict[str, type[Message]] = {
                m.routing_key: m
                for m in (JanitorRunCompleted, AttachmentsPurged, AdminCommandCompleted)
            }
            kind = kinds[message.routing_key or ""]
            self.heard.append(kind.model_validate(json.loads(message.body)))
            self._arrived.set()

    async def publish(self, message: Message, *, headers: dict[str, Any] | None = None) -> None:
        exchange = await self.channel.get_exchange(message.exchange)
        await exchange.publish(
            aio_pika.Message(
                message.model_dump_json().encode(),
                message_id=str(message.message_id),
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                headers=headers,
            ),
            routing_key=message.routing_key,
        )

    async def queued(self, queue: str) -> int:
        """How many messages wait in `queue` right now."""
        declared = await self.channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count or 0

    def about(self, correlation_id: UUID | None) -> list[Message]:
        return [m for m in self.heard if m.correlation_id == correlation_id]

    async def wait_for(self, predicate: Callable[[Message], bool]) -> Message:
        """The first message heard that matches; fails after 20 s."""
        async with asyncio.timeout(20):
            while True:
                for message in self.heard:
                    if predicate(message):
                        return message
                self._arrived.clear()
                await self._arrived.wait()

    async def command(self, command: RunJanitor) -> AdminCommandCompleted:
        """Send the admin command and wait for its answer (sent last of the run's events)."""
        await self.publish(command)
        answer = await self.wait_for(
            lambda m: (
                isinstance(m, AdminCommandCompleted) and m.correlation_id == command.message_id
            )
        )
        assert isinstance(answer, AdminCommandCompleted)
        return answer


BusFactory = Callable[[], Awaitable[Bus]]


@pytest.fixture
async def bus(rabbit_url: str) -> AsyncIterator[BusFactory]:
    """Connects once the app has declared the topology: `b = await bus()`."""
    connection = await aio_pika.connect(rabbit_url)
    buses: list[Bus] = []

    async def connect() -> Bus:
        channel = await connection.channel(publisher_confirms=True)
        b = Bus(channel)
        await b.listen()
        buses.append(b)
        return b

    try:
        yield connect
    finally:
        await connection.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC).replace(microsecond=0))
