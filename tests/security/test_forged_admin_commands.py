"""Threat: an admin command nobody signed (or signed badly, long ago, or already used) runs.

A service built by the shared runtime (create_runtime + create_service_app, as every service
is) on the real RabbitMQ and Mongo-wire server, trusting only the test operator's key. Commands
that reach its admin queue — through `helpdesk.admin` or the retry route — run only when their
signature verifies, their time stamp is fresh and their nonce is new. Every other one is
answered `AdminCommandCompleted(rejected)` with the reason, and audited with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aio_pika
import pytest
from faststream.rabbit import RabbitRouter
from helpdesk_contracts import topology
from helpdesk_contracts.admin.v1 import AdminCommandCompleted, Outcome, RunJanitor
from helpdesk_harness import admin_keys
from helpdesk_runtime import signing
from helpdesk_runtime.broker import subscriber
from helpdesk_runtime.service import create_runtime, create_service_app
from helpdesk_runtime.settings import InfraSettings
from pydantic import SecretStr

from tests.support.bus import Bus
from tests.support.wait import eventually

pytestmark = pytest.mark.integration

QUEUE = topology.queue_name("janitor", RunJanitor)


@dataclass
class Janitor:
    """The service under attack: records what its handler was given to run."""

    ran: list[RunJanitor]
    bus: Bus
    channel: aio_pika.abc.AbstractChannel

    async def send(self, body: bytes, *, exchange: str, routing_key: str) -> None:
        target = await self.channel.get_exchange(exchange)
        await target.publish(
            aio_pika.Message(
                body,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=routing_key,
        )

    async def command(self, command: RunJanitor) -> None:
        await self.send(
            command.model_dump_json().encode(),
            exchange="helpdesk.admin",
            routing_key=RunJanitor.routing_key,
        )

    async def answer(self, command: RunJanitor) -> AdminCommandCompleted:
        return await self.bus.wait_for(
            AdminCommandCompleted, lambda m: m.correlation_id == command.message_id
        )


@pytest.fixture
async def janitor(rabbit_url: str, mongo_url: str, mongo_db_name: str) -> AsyncIterator[Janitor]:
    infra = InfraSettings(
        rabbit_url=SecretStr(rabbit_url),
        mongo_url=SecretStr(mongo_url),
        mongo_db=mongo_db_name,
        graceful_timeout_seconds=5.0,
        admin_public_keys=admin_keys.PUBLIC_KEYS,
    )
    runtime = create_runtime("janitor", infra)
    ran: list[RunJanitor] = []
    router = RabbitRouter()

    @subscriber(router, "janitor", RunJanitor)
    async def run(command: RunJanitor) -> None:
        ran.append(command)

    app = create_service_app(runtime, routers=[router])
    connection = await aio_pika.connect(rabbit_url)
    async with app, connection:
        channel = await connection.channel(publisher_confirms=True)
        bus = Bus(channel, (("helpdesk.events", AdminCommandCompleted.routing_key),))
        await bus.listen()
        yield Janitor(ran, bus, channel)


def _audit(caplog: pytest.LogCaptureFixture, command: RunJanitor) -> dict[str, object]:
    """The guard's one audit line about this command (each test's requester is unique)."""
    matching = [
        r
        for r in caplog.records
        if r.name == "helpdesk.audit" and r.__dict__.get("requested_by") == command.requested_by
    ]
    assert len(matching) == 1, [r.__dict__ for r in matching]
    assert matching[0].getMessage() == "admin command received"
    return matching[0].__dict__


async def _rejected(
    janitor: Janitor, caplog: pytest.LogCaptureFixture, command: RunJanitor, reason: str
) -> None:
    answer = await janitor.answer(command)
    assert (answer.outcome, answer.service, answer.command) == (
        Outcome.REJECTED,
        "janitor",
        RunJanitor.routing_key,
    )
    assert answer.detail == f"not executed: {reason}"
    line = _audit(caplog, command)
    assert (line["verdict"], line["reason"], line["audit"]) == ("rejected", reason, True)
    assert command.message_id not in {c.message_id for c in janitor.ran}


@pytest.fixture(autouse=True)
def _audit_captured(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="helpdesk.audit")


async def test_an_unsigned_command_is_rejected_and_audited(
    janitor: Janitor, caplog: pytest.LogCaptureFixture
) -> None:
    command = RunJanitor(requested_by="forger:unsigned")
    await janitor.command(command)
    await _rejected(janitor, caplog, command, "unsigned")
    assert _audit(caplog, command)["key"] is None


async def test_a_command_signed_with_another_key_under_a_known_name_is_rejected(
    janitor: Janitor, caplog: pytest.LogCaptureFixture
) -> None:
    impostor = signing.generate_key()
    command = signing.sign(
        RunJanitor(requested_by="forger:impostor"), key_name=admin_keys.KEY_NAME, key=impostor
    )
    await janitor.command(command)
    await _rejected(janitor, caplog, command, "bad signature")
    assert _audit(caplog, command)["key"] == admin_keys.KEY_NAME


async def test_a_signed_command_whose_fields_were_changed_is_rejected(
    janitor: Janitor, caplog: pytest.LogCaptureFixture
) -> None:
    signed = admin_keys.sign(RunJanitor(requested_by="forger:tampered", dry_run=True))
    tampered = signed.model_copy(update={"dry_run": False})
    await janitor.command(tampered)
    await _rejected(janitor, caplog, tampered, "bad signature")


async def test_an_unknown_key_is_rejected(
    janitor: Janitor, caplog: pytest.LogCaptureFixture
) -> None:
    command = signing.sign(
        RunJanitor(requested_by="forger:unknown"), key_name="mallory", key=signing.generate_key()
    )
    await janitor.command(command)
    await _rejected(janitor, caplog, command, "unknown key")
    assert _audit(caplog, command)["key"] == "mallory"


async def test_a_command_signed_more_than_five_minutes_ago_is_rejected(
    janitor: Janitor, caplog: pytest.LogCaptureFixture
) -> None:
    long_ago = datetime.now(UTC) - timedelta(minutes=6)
    command = signing.sign(
        RunJanitor(requested_by="forger:stale"),
        key_name=admin_keys.KEY_NAME,
        key=admin_keys.KEY,
        now=long_ago,
    )
    await janitor.command(command)
    await _rejected(janitor, caplog, command, "stale time stamp")


async def test_a_replayed_command_runs_once_and_is_rejected_the_second_time(
    janitor: Janitor, caplog: pytest.LogCaptureFixture
) -> None:
    command = admin_keys.sign(RunJanitor(requested_by="ops:replayed"))
    await janitor.command(command)
    await eventually(lambda: len(janitor.ran) == 1, what="the signed command ran")
    # A captured copy of the very same bytes, published again as a new message.
    await janitor.command(command)
    await eventually(
        lambda: len([r for r in caplog.records if r.__dict__.get("verdict") == "rejected"]) == 1,
        what="the replay was judged",
    )
    answer = await janitor.answer(command)
    assert answer.outcome is Outcome.REJECTED
    assert answer.detail == "not executed: replayed nonce"
    verdicts = [
        (r.__dict__["verdict"], r.__dict__["reason"], r.__dict__["key"])
        for r in caplog.records
        if r.name == "helpdesk.audit"
    ]
    assert verdicts == [
        ("accepted", "signature verified", admin_keys.KEY_NAME),
        ("rejected", "replayed nonce", admin_keys.KEY_NAME),
    ]
    assert [c.message_id for c in janitor.ran] == [command.message_id]


async def test_an_unsigned_command_arriving_through_the_retry_route_is_rejected_and_audited(
    janitor: Janitor, caplog: pytest.LogCaptureFixture
) -> None:
    """With the broker's admin account (more than any service has): the route does not matter."""
    command = RunJanitor(requested_by="forger:redeliver")
    redeliver = topology.redeliver_exchange_name("janitor")
    await janitor.send(
        command.model_dump_json().encode(),
        exchange=redeliver,
        routing_key=topology.delay_routing_key(QUEUE, 1),
    )
    await _rejected(janitor, caplog, command, "unsigned")
    assert _audit(caplog, command)["exchange"] == redeliver


async def test_a_retry_of_an_accepted_command_is_not_taken_for_a_replay(
    janitor: Janitor, caplog: pytest.LogCaptureFixture
) -> None:
    """The delay path re-queues the same message: its nonce is known, with its message id."""
    command = admin_keys.sign(RunJanitor(requested_by="ops:retried"))
    await janitor.command(command)
    await eventually(lambda: len(janitor.ran) == 1, what="the signed command ran")
    target = await janitor.channel.get_exchange(topology.redeliver_exchange_name("janitor"))
    await target.publish(
        aio_pika.Message(
            command.model_dump_json().encode(),
            content_type="application/json",
            headers={"x-helpdesk-attempt": 1},
        ),
        routing_key=topology.delay_routing_key(QUEUE, 1),
    )
    await eventually(lambda: len(janitor.ran) == 2, what="the retry ran")
    reasons = [r.__dict__["reason"] for r in caplog.records if r.name == "helpdesk.audit"]
    assert reasons == ["signature verified", "redelivery of an accepted command"]


@pytest.mark.parametrize("body", [b"not json {", b'{"requested_by": 42}'])
async def test_a_body_that_is_no_command_is_audited_and_dead_lettered(
    janitor: Janitor, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    await janitor.send(body, exchange="helpdesk.admin", routing_key=RunJanitor.routing_key)

    def audited() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.__dict__.get("verdict") == "malformed"]

    await eventually(lambda: len(audited()) == 1, what="the malformed command was audited")
    [line] = audited()
    assert line.getMessage() == "admin command received"
    assert (line.__dict__["command"], line.__dict__["exchange"]) == (
        RunJanitor.routing_key,
        "helpdesk.admin",
    )
    dlq = await janitor.channel.declare_queue(topology.dlq_name(QUEUE), passive=True)
    dead = await dlq.get(no_ack=True, fail=False, timeout=5)
    for _ in range(100):
        if dead is not None:
            break
        await asyncio.sleep(0.1)
        dead = await dlq.get(no_ack=True, fail=False, timeout=5)
    assert dead is not None and dead.body == body
    assert janitor.ran == []
