"""Auth's consumers: a transient failure parks the message for a delayed retry, a lasting one
dead-letters it (TestRabbitBroker, no servers)."""

from __future__ import annotations

from typing import Any, cast

import pytest
from faststream.rabbit import RabbitBroker, TestRabbitBroker
from helpdesk_auth.admin import UserAdmin
from helpdesk_auth.consumers import TRANSIENT, build_router
from helpdesk_auth.errors import StoreConflictError
from helpdesk_auth.signin import SignIn
from helpdesk_contracts import topology
from helpdesk_contracts.auth.v1 import RequestCode, VerifyCode
from helpdesk_runtime.broker import ATTEMPT_HEADER, rabbit_exchange
from helpdesk_runtime.retry import DEFAULT_RETRY_LIMIT, Retry
from pymongo.errors import AutoReconnect

from tests.unit.fakes import RecordingPublisher


class FailingSignIn:
    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    async def request_code(self, command: RequestCode) -> None:
        self.calls += 1
        raise self.error

    async def verify_code(self, command: VerifyCode) -> None:
        self.calls += 1


def make_broker(signin: FailingSignIn, publisher: RecordingPublisher) -> RabbitBroker:
    broker = RabbitBroker()
    router = build_router(
        cast(SignIn, signin), cast(UserAdmin, object()), Retry(publisher, TRANSIENT)
    )
    broker.include_router(router)
    return broker


def body() -> dict[str, Any]:
    return RequestCode(telegram_user_id=1, chat_id=1, email="maria@example.com").model_dump(
        mode="json"
    )


@pytest.mark.parametrize("error", [AutoReconnect("mongo went away"), StoreConflictError("busy")])
async def test_a_transient_failure_is_retried_after_a_delay(error: Exception) -> None:
    signin, publisher = FailingSignIn(error), RecordingPublisher()
    broker = make_broker(signin, publisher)
    async with TestRabbitBroker(broker) as test_broker:
        await test_broker.publish(
            body(),
            exchange=rabbit_exchange(topology.COMMANDS),
            routing_key=RequestCode.routing_key,
            headers={ATTEMPT_HEADER: 2},
        )
    assert signin.calls == 1
    assert publisher.retries == [(topology.queue_name("auth", RequestCode), 30)]


async def test_a_failure_that_outlasts_the_retries_propagates_to_the_dead_letter_queue() -> None:
    signin, publisher = FailingSignIn(AutoReconnect("still down")), RecordingPublisher()
    broker = make_broker(signin, publisher)
    async with TestRabbitBroker(broker) as test_broker:
        with pytest.raises(AutoReconnect):
            await test_broker.publish(
                body(),
                exchange=rabbit_exchange(topology.COMMANDS),
                routing_key=RequestCode.routing_key,
                headers={ATTEMPT_HEADER: DEFAULT_RETRY_LIMIT},
            )
    assert publisher.retries == []


async def test_other_errors_are_not_retried() -> None:
    signin, publisher = FailingSignIn(ValueError("a bug")), RecordingPublisher()
    broker = make_broker(signin, publisher)
    async with TestRabbitBroker(broker) as test_broker:
        with pytest.raises(ValueError, match="a bug"):
            await test_broker.publish(
                body(),
                exchange=rabbit_exchange(topology.COMMANDS),
                routing_key=RequestCode.routing_key,
            )
    assert publisher.retries == []
