"""The runtime declares the contracts' topology on RabbitMQ as the contracts describe it."""

from __future__ import annotations

from faststream.rabbit import ExchangeType
from helpdesk_contracts import topology
from helpdesk_contracts.ticket.v1 import TicketSubmitted
from helpdesk_runtime.broker import rabbit_exchange, rabbit_queue


def test_work_queues_are_declared_as_durable_quorum_queues_with_their_arguments() -> None:
    described = topology.work_queue("mailer", TicketSubmitted)
    declared = rabbit_queue(described)
    assert declared.name == "mailer.ticket.submitted.v1"
    assert declared.durable
    assert declared.routing_key == TicketSubmitted.routing_key
    assert declared.arguments is not None
    assert declared.arguments["x-queue-type"] == "quorum"
    assert declared.arguments["x-delivery-limit"] == topology.DELIVERY_LIMIT
    assert declared.arguments["x-dead-letter-exchange"] == topology.DLX_NAME


def test_delay_queues_are_classic_with_their_ttl() -> None:
    declared = rabbit_queue(topology.delay_queue(5))
    assert declared.durable
    assert declared.arguments is not None
    assert declared.arguments.get("x-queue-type", "classic") == "classic"
    assert declared.arguments["x-message-ttl"] == 5000
    assert declared.arguments["x-dead-letter-exchange"] == topology.REDELIVER_EXCHANGE_NAME


def test_exchanges_keep_type_and_arguments() -> None:
    events = rabbit_exchange(topology.EVENTS)
    assert events.name == "helpdesk.events"
    assert events.type == ExchangeType.TOPIC
    assert events.durable
    assert events.arguments == {"alternate-exchange": topology.UNROUTED_EXCHANGE_NAME}
    assert rabbit_exchange(topology.DLX).type == ExchangeType.DIRECT
    assert rabbit_exchange(topology.UNROUTED).type == ExchangeType.FANOUT
    # One object per exchange, so FastStream sees the same declaration from every caller.
    assert rabbit_exchange(topology.EVENTS) is events
