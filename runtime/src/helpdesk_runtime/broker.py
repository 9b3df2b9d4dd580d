"""The broker: one configuration, topology declaration, confirmed publishing, delayed retry."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from typing import Any

from faststream.middlewares import AckPolicy, BaseMiddleware
from faststream.rabbit import (
    Channel,
    ExchangeType,
    QueueType,
    RabbitBroker,
    RabbitExchange,
    RabbitMessage,
    RabbitQueue,
    RabbitRouter,
)
from faststream.rabbit.prometheus import RabbitPrometheusMiddleware
from faststream.rabbit.subscriber import RabbitSubscriber
from helpdesk_contracts import topology
from helpdesk_contracts.base import Message

from helpdesk_runtime.audit import AdminAuditMiddleware
from helpdesk_runtime.logs import bind_log_context
from helpdesk_runtime.metrics import Metrics
from helpdesk_runtime.settings import InfraSettings

ATTEMPT_HEADER = "x-helpdesk-attempt"
"""How many times a consumer already tried this message through a delayed retry."""

logger = logging.getLogger("helpdesk.broker")


@cache
def rabbit_exchange(exchange: topology.Exchange) -> RabbitExchange:
    """The FastStream declaration of an exchange of the topology."""
    return RabbitExchange(
        exchange.name,
        type=ExchangeType(exchange.type),
        durable=True,
        arguments=dict(exchange.arguments) or None,
    )


@cache
def rabbit_queue(queue: topology.Queue) -> RabbitQueue:
    """The FastStream declaration of a queue of the topology."""
    arguments: Any = dict(queue.arguments) or None
    if queue.quorum:
        return RabbitQueue(
            queue.name,
            queue_type=QueueType.QUORUM,
            durable=True,
            routing_key=queue.routing_key,
            arguments=arguments,
        )
    return RabbitQueue(queue.name, durable=True, routing_key=queue.routing_key, arguments=arguments)


class LogContextMiddleware(BaseMiddleware):
    """Every log line written while handling a message carries its ids."""

    async def on_receive(self) -> None:
        props = getattr(self.msg, "properties", None) or getattr(self.msg, "raw_message", None)
        bind_log_context(
            message_id=getattr(props, "message_id", None),
            correlation_id=getattr(props, "correlation_id", None),
            routing_key=getattr(self.msg, "routing_key", None),
        )


def create_broker(
    infra: InfraSettings, *, service: str, metrics: Metrics | None = None
) -> RabbitBroker:
    """A broker whose publishes are confirmed, and whose returns and nacks raise.

    Handlers that raise have their message rejected (not requeued), which dead-letters it:
    poison never loops. Transient failures are retried by the handler with `retry_later`.
    """
    return RabbitBroker(
        infra.rabbit_url.get_secret_value(),
        default_channel=Channel(
            prefetch_count=infra.prefetch, publisher_confirms=True, on_return_raises=True
        ),
        ack_policy=AckPolicy.REJECT_ON_ERROR,
        graceful_timeout=infra.graceful_timeout_seconds,
        app_id=f"helpdesk-{service}",
        logger=logging.getLogger(f"helpdesk.{service}.faststream"),
        middlewares=(
            (LogContextMiddleware, AdminAuditMiddleware)
            if metrics is None
            else (
                LogContextMiddleware,
                AdminAuditMiddleware,
                RabbitPrometheusMiddleware(
                    registry=metrics.registry, app_name=f"helpdesk-{service}"
                ),
            )
        ),
        timeout=10.0,
    )


async def declare_topology(broker: RabbitBroker) -> None:
    """Declare every exchange, queue and binding of the system (idempotent)."""
    for exchange in topology.ALL_EXCHANGES:
        await broker.declare_exchange(rabbit_exchange(exchange))
    for binding in topology.all_bindings():
        queue = await broker.declare_queue(rabbit_queue(binding.queue))
        declared = await broker.declare_exchange(rabbit_exchange(binding.exchange))
        await queue.bind(declared, routing_key=binding.routing_key)


def subscriber(
    router: RabbitRouter | RabbitBroker, consumer: topology.Consumer, message: type[Message]
) -> Callable[[Callable[..., Any]], RabbitSubscriber]:
    """Subscribe a handler to the consumer's work queue for this message type."""
    if message not in topology.SUBSCRIPTIONS[consumer]:
        raise ValueError(f"{consumer} does not consume {message.routing_key}; see topology")
    return router.subscriber(  # type: ignore[return-value]
        rabbit_queue(topology.work_queue(consumer, message)),
        rabbit_exchange(topology.exchange_for(message)),
        title=f"{consumer}:{message.routing_key}",
        description=(message.__doc__ or "").strip().splitlines()[0],
    )


def attempt_of(message: RabbitMessage) -> int:
    """How many delayed retries this delivery has been through (0 on the first)."""
    raw = message.headers.get(ATTEMPT_HEADER, 0)
    try:
        return max(0, int(raw))
    except (TypeError, ValueError):
        return 0


class Publisher:
    """Publishes contracts with confirms, persistence, a timeout and mandatory routing."""

    def __init__(
        self, broker: RabbitBroker, *, timeout: float, metrics: Metrics | None = None
    ) -> None:
        self.broker = broker
        self.timeout = timeout
        self.metrics = metrics

    async def publish(self, message: Message) -> None:
        await self.publish_raw(
            message.model_dump_json().encode(),
            exchange=message.exchange,
            routing_key=message.routing_key,
            message_id=str(message.message_id),
            correlation_id=str(message.correlation_id) if message.correlation_id else None,
        )

    async def publish_raw(
        self,
        body: bytes,
        *,
        exchange: str,
        routing_key: str,
        message_id: str,
        correlation_id: str | None = None,
        headers: dict[str, Any] | None = None,
    ) -> None:
        target = topology.EXCHANGES.get(exchange)
        await self.broker.publish(
            body,
            exchange=rabbit_exchange(target) if target is not None else exchange,
            routing_key=routing_key,
            message_id=message_id,
            correlation_id=correlation_id or message_id,
            content_type="application/json",
            message_type=routing_key,
            headers=headers,
            persist=True,
            mandatory=True,
            timeout=self.timeout,
        )
        if self.metrics is not None:
            self.metrics.published.labels(routing_key=routing_key).inc()

    async def retry_later(self, message: RabbitMessage, *, queue: str, delay_seconds: float) -> int:
        """Re-queue a copy of this delivery after a delay; returns the tier used (seconds).

        The caller acks the original only after this returns: the copy is confirmed first.
        """
        tier = topology.pick_delay_tier(delay_seconds)
        headers = {**message.headers, ATTEMPT_HEADER: attempt_of(message) + 1}
        await self.broker.publish(
            message.body,
            exchange=rabbit_exchange(topology.DELAY),
            routing_key=topology.delay_routing_key(queue, tier),
            message_id=message.message_id,
            correlation_id=message.correlation_id,
            content_type=message.content_type or "application/json",
            message_type=getattr(message.raw_message, "type", None),
            headers=headers,
            persist=True,
            mandatory=True,
            timeout=self.timeout,
        )
        logger.info(
            "retry scheduled",
            extra={"queue": queue, "delay_seconds": tier, "attempt": headers[ATTEMPT_HEADER]},
        )
        return tier
