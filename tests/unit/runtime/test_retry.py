"""The one retry rule: delays from the topology's tiers, one cap, then the dead-letter queue."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from faststream.rabbit import RabbitMessage
from helpdesk_contracts import topology
from helpdesk_runtime.broker import ATTEMPT_HEADER
from helpdesk_runtime.retry import DEFAULT_RETRY_LIMIT, Retry, retry_delay
from helpdesk_runtime.settings import InfraSettings

from tests.unit.fakes import RecordingPublisher


class Flaky(Exception):
    pass


@dataclass
class FakeMessage:
    headers: dict[str, Any] = field(default_factory=dict)
    nacked: list[bool] = field(default_factory=list)

    async def nack(self, requeue: bool = True) -> None:
        self.nacked.append(requeue)


def message(attempt: int | None = None) -> FakeMessage:
    return FakeMessage(headers={} if attempt is None else {ATTEMPT_HEADER: attempt})


async def fails() -> None:
    raise Flaky("the database went away")


def rule(publisher: RecordingPublisher, *, limit: int = DEFAULT_RETRY_LIMIT) -> Retry:
    return Retry(publisher, (Flaky,), limit=limit, requeue_pause_seconds=0.0)


def test_delays_walk_the_topology_tiers_then_stay_on_the_longest() -> None:
    tiers = topology.DELAY_TIERS_SECONDS
    assert [retry_delay(n) for n in range(len(tiers))] == list(tiers)
    assert retry_delay(len(tiers) + 5) == tiers[-1]


def test_the_limit_is_one_shared_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HELPDESK_RETRY_LIMIT", raising=False)
    assert InfraSettings().retry_limit == DEFAULT_RETRY_LIMIT
    monkeypatch.setenv("HELPDESK_RETRY_LIMIT", "3")
    assert InfraSettings().retry_limit == 3


async def test_success_returns_the_result_and_schedules_nothing() -> None:
    publisher = RecordingPublisher()

    async def works() -> str:
        return "done"

    assert await rule(publisher).run(cast(RabbitMessage, message()), "svc.q", works) == "done"
    assert publisher.retries == []


@pytest.mark.parametrize(("attempt", "delay"), [(None, 1), (0, 1), (1, 5), (4, 600), (7, 600)])
async def test_a_transient_failure_schedules_a_delayed_copy(
    attempt: int | None, delay: int
) -> None:
    publisher, msg = RecordingPublisher(), message(attempt)
    await rule(publisher).run(cast(RabbitMessage, msg), "svc.q", fails)
    assert publisher.retries == [("svc.q", delay)]
    assert msg.nacked == []


async def test_after_the_limit_the_failure_propagates_to_the_dead_letter_queue() -> None:
    publisher = RecordingPublisher()
    with pytest.raises(Flaky):
        await rule(publisher, limit=3).run(cast(RabbitMessage, message(3)), "svc.q", fails)
    assert publisher.retries == []


async def test_a_limit_of_zero_dead_letters_at_the_first_failure() -> None:
    publisher = RecordingPublisher()
    with pytest.raises(Flaky):
        await rule(publisher, limit=0).run(cast(RabbitMessage, message()), "svc.q", fails)
    assert publisher.retries == []


async def test_other_errors_are_not_retried() -> None:
    publisher = RecordingPublisher()

    async def bug() -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        await rule(publisher).run(cast(RabbitMessage, message()), "svc.q", bug)
    assert publisher.retries == []


async def test_a_delayed_copy_the_broker_refuses_gives_the_original_back() -> None:
    msg = message(1)
    await rule(RecordingPublisher(fail=True)).run(cast(RabbitMessage, msg), "svc.q", fails)
    assert msg.nacked == [True]


async def test_a_use_case_delay_is_queued_or_given_back_the_same_way() -> None:
    publisher, msg = RecordingPublisher(), message()
    await rule(publisher).later(cast(RabbitMessage, msg), "svc.q", 30.0)
    assert publisher.retries == [("svc.q", 30.0)]
    refused = message()
    await rule(RecordingPublisher(fail=True)).later(cast(RabbitMessage, refused), "svc.q", 30.0)
    assert refused.nacked == [True]
