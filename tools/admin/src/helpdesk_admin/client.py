"""Publish one admin command and wait for the AdminCommandCompleted that answers it.

The reply queue is exclusive and auto-deleted, named `helpdesk-admin.reply.<hex>` so that the
operator's RabbitMQ user needs `configure` only on that prefix (see docs/operations.md). It is
bound to `helpdesk.events` before the command is published, so even an instant answer is kept.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from types import TracebackType
from typing import Self

from aio_pika.abc import AbstractIncomingMessage
from faststream.rabbit import RabbitBroker, RabbitQueue
from helpdesk_contracts import topology
from helpdesk_contracts.admin.v1 import AdminCommandCompleted
from helpdesk_contracts.base import AdminCommand
from helpdesk_runtime.broker import Publisher, create_broker
from helpdesk_runtime.settings import InfraSettings
from pydantic import SecretStr, ValidationError

REPLY_QUEUE_PREFIX = "helpdesk-admin.reply."

logger = logging.getLogger("helpdesk.admin")


class AdminError(Exception):
    """The command could not be delivered (broker unreachable, nobody bound to its key)."""


def consumer_of(command: type[AdminCommand]) -> str:
    """Which service answers this command (from the topology)."""
    for consumer, messages in topology.SUBSCRIPTIONS.items():
        if command in messages:
            return consumer
    return "no service"


class AdminClient:
    """One broker connection for one CLI invocation."""

    def __init__(self, rabbit_url: str, *, publish_timeout: float = 10.0) -> None:
        infra = InfraSettings(
            rabbit_url=SecretStr(rabbit_url), publish_timeout_seconds=publish_timeout
        )
        self.broker: RabbitBroker = create_broker(infra, service="admin")
        self.publisher = Publisher(self.broker, timeout=publish_timeout)

    async def __aenter__(self) -> Self:
        try:
            await self.broker.connect()
        except Exception as exc:  # the URL carries the password: name the failure, not the URL
            raise AdminError(f"cannot connect to RabbitMQ: {type(exc).__name__}") from None
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.broker.stop()

    async def request(
        self, command: AdminCommand, *, wait_seconds: float
    ) -> AdminCommandCompleted | None:
        """Publish `command`; return its answer, or None when none came within `wait_seconds`."""
        replies: asyncio.Queue[AdminCommandCompleted] = asyncio.Queue()
        try:
            queue = await self.broker.declare_queue(
                RabbitQueue(
                    f"{REPLY_QUEUE_PREFIX}{uuid.uuid4().hex}",
                    durable=False,
                    exclusive=True,
                    auto_delete=True,
                )
            )
            await queue.bind(
                topology.EVENTS.name, routing_key=AdminCommandCompleted.routing_key, robust=False
            )
        except Exception as exc:
            raise AdminError(
                f"could not listen for answers on {topology.EVENTS.name} "
                f"({type(exc).__name__}): is the topology declared (has any service started "
                "once) and may this user declare helpdesk-admin.reply.* queues?"
            ) from None

        async def on_message(message: AbstractIncomingMessage) -> None:
            try:
                completed = AdminCommandCompleted.model_validate_json(message.body)
            except ValidationError:
                logger.warning("ignored a malformed AdminCommandCompleted")
                return
            if completed.correlation_id == command.message_id:
                replies.put_nowait(completed)

        try:
            await self.publisher.publish(command)
        except Exception as exc:
            raise AdminError(
                f"could not publish {command.routing_key} ({type(exc).__name__}): is the "
                "topology declared (has any service started once) and may this user write "
                "to helpdesk.admin?"
            ) from None
        tag = await queue.consume(on_message, no_ack=True)
        try:
            async with asyncio.timeout(wait_seconds):
                return await replies.get()
        except TimeoutError:
            return None
        finally:
            await queue.cancel(tag)
