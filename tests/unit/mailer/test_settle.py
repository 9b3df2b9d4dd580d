"""What the consumer asks of the broker after a use case: ack, delayed copy, or requeue."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from faststream.rabbit import RabbitMessage
from helpdesk_mailer import consumers
from helpdesk_mailer.delivery import Done, Outcome, RetryIn
from helpdesk_mailer.errors import StorageUnavailableError
from helpdesk_runtime.broker import ATTEMPT_HEADER
from helpdesk_runtime.retry import DEFAULT_RETRY_LIMIT, Retry

from tests.unit.fakes import RecordingPublisher


@dataclass
class FakeMessage:
    headers: dict[str, Any] = field(default_factory=dict)
    nacked: list[bool] = field(default_factory=list)

    async def nack(self, requeue: bool = True) -> None:
        self.nacked.append(requeue)


async def settle(
    outcome: Outcome | Exception, message: FakeMessage, publisher: RecordingPublisher
) -> None:
    async def work() -> Outcome:
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    retry = Retry(publisher, consumers.TRANSIENT, requeue_pause_seconds=0.0)
    await consumers._settle(work, cast(RabbitMessage, message), "mailer.q", retry)


async def test_done_acks_and_retry_in_queues_a_delayed_copy() -> None:
    publisher, message = RecordingPublisher(), FakeMessage()
    await settle(Done(), message, publisher)
    assert publisher.retries == []
    await settle(RetryIn(30.0), message, publisher)
    assert publisher.retries == [("mailer.q", 30.0)]
    assert message.nacked == []


@pytest.mark.parametrize(("attempt", "tier"), [(0, 1), (1, 5), (2, 30), (3, 120), (7, 600)])
async def test_unreachable_database_backs_off_through_the_tiers(attempt: int, tier: float) -> None:
    publisher = RecordingPublisher()
    await settle(
        StorageUnavailableError("claim: AutoReconnect"),
        FakeMessage(headers={ATTEMPT_HEADER: attempt}),
        publisher,
    )
    assert publisher.retries == [("mailer.q", tier)]


async def test_an_unreachable_database_past_the_limit_is_dead_lettered() -> None:
    publisher = RecordingPublisher()
    with pytest.raises(StorageUnavailableError):
        await settle(
            StorageUnavailableError("claim: AutoReconnect"),
            FakeMessage(headers={ATTEMPT_HEADER: DEFAULT_RETRY_LIMIT}),
            publisher,
        )
    assert publisher.retries == []


async def test_a_smtp_retry_is_not_capped_by_the_transient_limit() -> None:
    """The use case's own deadline decides when SMTP retries end (with TicketEmailFailed)."""
    publisher = RecordingPublisher()
    message = FakeMessage(headers={ATTEMPT_HEADER: DEFAULT_RETRY_LIMIT + 3})
    await settle(RetryIn(120.0), message, publisher)
    assert publisher.retries == [("mailer.q", 120.0)]


async def test_a_retry_the_broker_refuses_gives_the_message_back() -> None:
    message = FakeMessage()
    await settle(RetryIn(5.0), message, RecordingPublisher(fail=True))
    assert message.nacked == [True]


async def test_a_bug_is_not_swallowed() -> None:
    with pytest.raises(KeyError):
        await settle(KeyError("bug"), FakeMessage(), RecordingPublisher())
