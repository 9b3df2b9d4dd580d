"""The TicketEmailed consumer: learns the ticket; Mongo unreachable means a delayed retry, and
anything else dead-letters the message (TestRabbitBroker, no servers)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
from faststream.rabbit import RabbitBroker, TestRabbitBroker
from helpdesk_contracts import topology
from helpdesk_contracts.ticket.v1 import TicketEmailed
from helpdesk_inbox.adapters.links import LinkStore
from helpdesk_inbox.consumers import TRANSIENT, build_router
from helpdesk_runtime.broker import ATTEMPT_HEADER, rabbit_exchange
from helpdesk_runtime.retry import DEFAULT_RETRY_LIMIT, Retry
from pymongo.errors import AutoReconnect, DuplicateKeyError

from tests.unit.fakes import RecordingPublisher

EVENT = TicketEmailed(
    ticket_id="6745a1f2c3d4e5f601234560",
    reference="TG-7F3A2C",
    email_message_id=" <TG-7F3A2C.6745a1f2c3d4e5f601234560@helpdesk.example.com> ",
    sent_at=datetime(2026, 11, 26, 10, 20, tzinfo=UTC),
)


class FakeLinks:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.learned: list[dict[str, Any]] = []

    async def learn_email(self, **fields: Any) -> None:
        if self.error is not None:
            raise self.error
        self.learned.append(fields)


async def deliver(links: FakeLinks, publisher: RecordingPublisher, attempt: int = 0) -> None:
    broker = RabbitBroker()
    broker.include_router(build_router(cast(LinkStore, links), Retry(publisher, TRANSIENT)))
    async with TestRabbitBroker(broker) as test_broker:
        await test_broker.publish(
            EVENT.model_dump(mode="json"),
            exchange=rabbit_exchange(topology.EVENTS),
            routing_key=TicketEmailed.routing_key,
            headers={ATTEMPT_HEADER: attempt},
        )


async def test_the_ticket_email_is_learned() -> None:
    links, publisher = FakeLinks(), RecordingPublisher()
    await deliver(links, publisher)
    [learned] = links.learned
    assert (learned["ticket_id"], learned["reference"]) == (EVENT.ticket_id, EVENT.reference)
    assert learned["email_message_id"] == EVENT.email_message_id
    assert publisher.retries == []


async def test_mongo_unreachable_is_retried_later() -> None:
    links, publisher = FakeLinks(AutoReconnect("gone")), RecordingPublisher()
    await deliver(links, publisher, attempt=1)
    assert publisher.retries == [(topology.queue_name("inbox", TicketEmailed), 5)]


@pytest.mark.parametrize(
    ("error", "attempt"),
    [(AutoReconnect("still gone"), DEFAULT_RETRY_LIMIT), (DuplicateKeyError("reference taken"), 0)],
)
async def test_lasting_failures_go_to_the_dead_letter_queue(error: Exception, attempt: int) -> None:
    links, publisher = FakeLinks(error), RecordingPublisher()
    with pytest.raises(type(error)):
        await deliver(links, publisher, attempt=attempt)
    assert publisher.retries == []
