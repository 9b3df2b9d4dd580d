"""The topology rules every service and integrator relies on."""

from __future__ import annotations

from helpdesk_contracts import topology
from helpdesk_contracts.base import Command, Event
from helpdesk_contracts.catalog import MESSAGES


def test_every_command_has_exactly_one_consuming_service() -> None:
    for message in MESSAGES:
        consumers = [c for c, msgs in topology.SUBSCRIPTIONS.items() if message in msgs]
        if issubclass(message, Command):
            assert len(consumers) == 1, (message.routing_key, consumers)


def test_services_consume_only_catalogued_messages() -> None:
    for messages in topology.SUBSCRIPTIONS.values():
        assert set(messages) <= set(MESSAGES)


def test_work_queues_are_quorum_with_delivery_limit_and_dead_lettering() -> None:
    queue = topology.work_queue(
        "mailer", next(m for m in MESSAGES if m.routing_key == "ticket.submitted.v1")
    )
    assert queue.name == "mailer.ticket.submitted.v1"
    assert queue.quorum
    assert queue.arguments["x-delivery-limit"] == topology.DELIVERY_LIMIT
    assert queue.arguments["x-dead-letter-exchange"] == topology.DLX_NAME
    assert queue.arguments["x-dead-letter-routing-key"] == queue.name
    assert queue.arguments["x-dead-letter-strategy"] == "at-least-once"


def test_every_work_queue_has_a_dead_letter_queue_and_a_redelivery_binding() -> None:
    bindings = topology.all_bindings()
    dlqs = {b.queue.name for b in bindings if b.exchange.name == topology.DLX_NAME}
    redelivery = {
        b.routing_key for b in bindings if b.exchange.name == topology.REDELIVER_EXCHANGE_NAME
    }
    for queue, _message in topology.all_work_queues():
        assert topology.dlq_name(queue.name) in dlqs
        assert f"*.{queue.name}" in redelivery


def test_delay_tier_choice() -> None:
    assert topology.pick_delay_tier(0) == topology.DELAY_TIERS_SECONDS[0]
    assert topology.pick_delay_tier(4) == 5
    assert topology.pick_delay_tier(31) == 120
    assert topology.pick_delay_tier(10**6) == topology.DELAY_TIERS_SECONDS[-1]


def test_events_and_commands_use_their_exchanges() -> None:
    for message in MESSAGES:
        exchange = topology.exchange_for(message).name
        if issubclass(message, Event):
            assert exchange == "helpdesk.events"
        elif message.routing_key.startswith("admin."):
            assert exchange == "helpdesk.admin"
        else:
            assert exchange == "helpdesk.commands"
