"""A service's neighbours as a test sees them on RabbitMQ.

`Bus` publishes contracts the way another service would (persistent, with the message id) and
hears what the service under test published, through an exclusive queue bound to the keys the
test asks for (and, optionally, by consuming a neighbour's own work queue). What it hears is
parsed back into the contract named by the routing key, so tests assert on typed messages.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from helpdesk_contracts.base import AdminCommand, Message
from helpdesk_contracts.catalog import message_type
from helpdesk_harness import admin_keys

Binding = tuple[str, str]
"""(exchange, routing key pattern)."""

WAIT_SECONDS = 20.0
"""How long `wait_for` waits by default: mongoeco on a busy 2-core machine is slow."""


class Bus:
    def __init__(
        self,
        channel: AbstractChannel,
        bindings: Sequence[Binding] = (("helpdesk.events", "#"),),
        *,
        queues: Sequence[str] = (),
    ) -> None:
        self.channel = channel
        self.bindings = list(bindings)
        self.queues = list(queues)
        self.heard: list[Message] = []
        self._arrived = asyncio.Event()

    async def listen(self) -> None:
        """Start hearing: bind a queue of our own, and consume the named work queues."""
        own = await self.channel.declare_queue(exclusive=True, auto_delete=True)
        for exchange_name, key in self.bindings:
            exchange = await self.channel.get_exchange(exchange_name)
            await own.bind(exchange, routing_key=key)
        await own.consume(self._on_message)
        for name in self.queues:
            queue = await self.channel.declare_queue(name, passive=True)
            await queue.consume(self._on_message)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        async with message.process():
            kind = message_type(message.routing_key or "")
            self.heard.append(kind.model_validate(json.loads(message.body)))
            self._arrived.set()

    async def publish(self, message: Message, *, headers: dict[str, Any] | None = None) -> None:
        """Publish like its owner would: an admin command signed by the test operator."""
        if isinstance(message, AdminCommand) and message.signature is None:
            message = admin_keys.sign(message)
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

    def all[M: Message](self, kind: type[M], correlation_id: UUID | None = None) -> list[M]:
        """Every message of `kind` heard so far (answering `correlation_id`, if given)."""
        return [
            m
            for m in self.heard
            if isinstance(m, kind)
            and (correlation_id is None or m.correlation_id == correlation_id)
        ]

    async def wait_for[M: Message](
        self,
        kind: type[M],
        predicate: Callable[[M], bool] = lambda _: True,
        within: float = WAIT_SECONDS,
    ) -> M:
        """The first message of `kind` heard that matches; TimeoutError after `within` s."""
        async with asyncio.timeout(within):
            while True:
                for message in self.heard:
                    if isinstance(message, kind) and predicate(message):
                        return message
                self._arrived.clear()
                await self._arrived.wait()

    async def queue_depth(self, name: str) -> int:
        """How many messages wait in queue `name` right now."""
        queue = await self.channel.declare_queue(name, passive=True)
        return queue.declaration_result.message_count or 0
