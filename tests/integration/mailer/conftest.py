"""The mailer in-process against real RabbitMQ, the Mongo-wire server and the aiosmtpd sink.

`mailer_env` gives a test its broker vhost and database, a way to publish contracts or raw
bytes, the events the mailer publishes (a private queue bound to `helpdesk.events`), and
`run(settings)` to start/stop the app as ops would (startup hooks, consumers, relay).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractQueue
from helpdesk_contracts import topology
from helpdesk_contracts.base import Message
from helpdesk_harness.smtp_sink import SmtpSink
from helpdesk_mailer.app import create_app
from helpdesk_mailer.settings import MailerSettings
from helpdesk_runtime.settings import InfraSettings
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase

from tests.unit.mailer import factories as f

Document = dict[str, Any]


@dataclass
class MailerEnv:
    rabbit_url: str
    mongo_url: str
    db: AsyncDatabase[Document]
    channel: AbstractChannel
    events: list[Document] = field(default_factory=list)
    _events_queue: AbstractQueue | None = None

    def settings(self, sink: SmtpSink | None = None, **overrides: Any) -> MailerSettings:
        infra = InfraSettings(
            rabbit_url=SecretStr(self.rabbit_url),
            mongo_url=SecretStr(self.mongo_url),
            mongo_db=self.db.name,
            publish_timeout_seconds=5,
            graceful_timeout_seconds=5,
        )
        values: dict[str, Any] = {
            "infra": infra,
            "smtp_connect_timeout_seconds": 2,
            "smtp_command_timeout_seconds": 5,
            "retry_base_seconds": 1,
            "send_lease_seconds": 30,
        }
        if sink is not None:
            values["smtp_host"] = sink.host
            values["smtp_port"] = sink.port
        values.update(overrides)
        return f.settings(**values)

    @asynccontextmanager
    async def run(self, settings: MailerSettings) -> AsyncIterator[None]:
        app = create_app(settings)
        async with app:
            await self._bind_events()
            yield

    async def _bind_events(self) -> None:
        """Listen to what the mailer publishes (after it declared the exchanges)."""
        if self._events_queue is not None:
            return
        queue = await self.channel.declare_queue(exclusive=True, auto_delete=True)
        for key in (
            "ticket.emailed.v1",
            "ticket.email_failed.v1",
            "mail.#",
            "ticket.comment_added.v1",
            "ticket.reply_failed.v1",
            "ticket.reopen_requested.v1",
            "ticket.cancel_requested.v1",
        ):
            await queue.bind(topology.EVENTS.name, routing_key=key)
        self._events_queue = queue

    async def publish(self, message: Message) -> None:
        await self.publish_raw(
            message.model_dump_json().encode(),
            routing_key=message.routing_key,
            exchange=message.exchange,
            message_id=str(message.message_id),
        )

    async def publish_raw(
        self, body: bytes, *, routing_key: str, exchange: str, message_id: str = "raw"
    ) -> None:
        target = await self.channel.get_exchange(exchange, ensure=False)
        await target.publish(
            aio_pika.Message(
                body,
                message_id=message_id,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=routing_key,
            mandatory=True,
        )

    async def _drain(self) -> None:
        assert self._events_queue is not None, "start the mailer first"
        while (incoming := await self._events_queue.get(no_ack=True, fail=False)) is not None:
            body = json.loads(incoming.body)
            body["_routing_key"] = incoming.routing_key
            self.events.append(body)

    async def wait_event(
        self, routing_key: str, *, count: int = 1, within: float = 15.0
    ) -> list[Document]:
        """Wait until `count` events with this routing key were published; return them all."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            await self._drain()
            found = [e for e in self.events if e["_routing_key"] == routing_key]
            if len(found) >= count:
                return found
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{len(found)}/{count} {routing_key} events; got {self.events}")
            await asyncio.sleep(0.05)

    async def events_now(self, routing_key: str) -> list[Document]:
        await self._drain()
        return [e for e in self.events if e["_routing_key"] == routing_key]

    async def dead_letters(self, queue: str) -> list[bytes]:
        dlq = await self.channel.declare_queue(topology.dlq_name(queue), passive=True)
        bodies = []
        while (incoming := await dlq.get(no_ack=True, fail=False)) is not None:
            bodies.append(incoming.body)
        return bodies

    async def outgoing(self, key: str) -> Document | None:
        return await self.db["outgoing_mail"].find_one({"_id": key})


@pytest.fixture
async def mailer_env(
    rabbit_url: str, mongo_url: str, mongo_db: AsyncDatabase[Document]
) -> AsyncIterator[MailerEnv]:
    connection = await aio_pika.connect(rabbit_url)
    async with connection:
        channel = await connection.channel()
        yield MailerEnv(rabbit_url=rabbit_url, mongo_url=mongo_url, db=mongo_db, channel=channel)
