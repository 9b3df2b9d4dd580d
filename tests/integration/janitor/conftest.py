"""The janitor against the real RabbitMQ and the Mongo-wire server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aio_pika
import pytest
from helpdesk_contracts.admin.v1 import AdminCommandCompleted, RunJanitor
from helpdesk_janitor.settings import JanitorSettings
from helpdesk_runtime.settings import InfraSettings
from pydantic import SecretStr

from tests.support.bus import Bus as SupportBus

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


class Bus(SupportBus):
    """Hears what the janitor says on `helpdesk.events`; sends it admin commands."""

    def __init__(self, channel: aio_pika.abc.AbstractChannel) -> None:
        bindings = [
            ("helpdesk.events", key) for key in ("janitor.#", AdminCommandCompleted.routing_key)
        ]
        super().__init__(channel, bindings)

    async def command(self, command: RunJanitor) -> AdminCommandCompleted:
        """Send the admin command and wait for its answer (sent last of the run's events)."""
        await self.publish(command)
        return await self.wait_for(
            AdminCommandCompleted, lambda m: m.correlation_id == command.message_id
        )


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
