"""`helpdesk-admin` against the real RabbitMQ, with a fake service answering admin commands.

The fake consumes each command from the work queue its real owner consumes (the topology) and
answers with AdminCommandCompleted on helpdesk.events, as a service does. The CLI runs as its own
process: what is checked is what an operator sees, its output and exit status.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import pytest
from faststream.rabbit import RabbitBroker
from helpdesk_admin.report import Report, render_csv
from helpdesk_contracts import topology
from helpdesk_contracts.admin import v1 as admin_v1
from helpdesk_contracts.admin.v1 import AdminCommandCompleted, Outcome
from helpdesk_contracts.base import AdminCommand
from helpdesk_runtime.broker import (
    Publisher,
    create_broker,
    declare_topology,
    subscriber,
)
from helpdesk_runtime.settings import InfraSettings
from pydantic import JsonValue, SecretStr

from tests.integration.ops.admin_cli import run_admin
from tests.unit.ops.test_report_render import FIGURES

pytestmark = pytest.mark.integration


class FakeServices:
    """Answers admin commands the way the real services would, and remembers what came."""

    def __init__(self, broker: RabbitBroker) -> None:
        self.broker = broker
        self.publisher = Publisher(broker, timeout=5)
        self.received: list[AdminCommand] = []

    async def answer(
        self,
        command: AdminCommand,
        service: str,
        outcome: Outcome,
        detail: str = "",
        result: dict[str, JsonValue] | None = None,
    ) -> None:
        self.received.append(command)
        # Someone else's answer first: the CLI must wait for the one that answers its command.
        await self.publisher.publish(
            AdminCommandCompleted(
                correlation_id=uuid.uuid4(),
                command=command.routing_key,
                service=service,
                outcome=Outcome.FAILED,
                detail="an answer to another operator's command",
            )
        )
        await self.publisher.publish(
            AdminCommandCompleted(
                correlation_id=command.message_id,
                command=command.routing_key,
                service=service,
                outcome=outcome,
                detail=detail,
                result=result or {},
            )
        )


@pytest.fixture
async def services(rabbit_url: str) -> AsyncIterator[FakeServices]:
    broker = create_broker(InfraSettings(rabbit_url=SecretStr(rabbit_url)), service="fake")
    fake = FakeServices(broker)

    @subscriber(broker, "auth", admin_v1.RevokeUser)
    async def revoke(command: admin_v1.RevokeUser) -> None:
        await fake.answer(command, "auth", Outcome.DONE, f"user {command.telegram_user_id} revoked")

    @subscriber(broker, "auth", admin_v1.DeleteUser)
    async def delete(command: admin_v1.DeleteUser) -> None:
        await fake.answer(command, "auth", Outcome.NOT_FOUND, f"no user {command.email}")

    @subscriber(broker, "auth", admin_v1.LookupUser)
    async def lookup(command: admin_v1.LookupUser) -> None:
        result: dict[str, JsonValue] = {"email": "maria.ivanova@example.com", "active": True}
        await fake.answer(command, "auth", Outcome.DONE, result=result)

    @subscriber(broker, "gateway", admin_v1.Broadcast)
    async def broadcast(command: admin_v1.Broadcast) -> None:
        await fake.answer(command, "gateway", Outcome.REJECTED, "a broadcast is already running")

    @subscriber(broker, "janitor", admin_v1.RunJanitor)
    async def janitor(command: admin_v1.RunJanitor) -> None:
        await fake.answer(command, "janitor", Outcome.FAILED, "lease held by another run")

    @subscriber(broker, "gateway", admin_v1.BuildReport)
    async def build_report(command: admin_v1.BuildReport) -> None:
        await fake.answer(command, "gateway", Outcome.DONE, result=FIGURES)

    # ClearLocation deliberately has no consumer: the gateway is "down".
    await broker.connect()
    await declare_topology(broker)
    await broker.start()
    try:
        yield fake
    finally:
        await broker.stop()


async def test_a_done_command_prints_its_answer_and_exits_0(
    services: FakeServices, rabbit_url: str
) -> None:
    run = await run_admin(rabbit_url, "--operator", "ops:ivanov", "revoke-user", "123456789")
    assert run.code == 0, run.stderr
    assert run.stdout == "auth: done: user 123456789 revoked\n"
    [command] = services.received
    assert isinstance(command, admin_v1.RevokeUser)
    assert command.telegram_user_id == 123456789
    assert command.requested_by == "ops:ivanov"


async def test_the_exit_status_follows_the_outcome(services: FakeServices, rabbit_url: str) -> None:
    cases = {
        ("delete-user", "nobody@example.com"): (3, "auth: not_found: no user nobody@example.com"),
        ("broadcast", "Плановые работы"): (4, "gateway: rejected: a broadcast is already running"),
        ("run-janitor", "--dry-run"): (5, "janitor: failed: lease held by another run"),
    }
    # Three operators at once: each CLI must pick its own answer out of the shared stream.
    runs = await asyncio.gather(
        *(run_admin(rabbit_url, *args, env={"USER": "petrov"}) for args in cases)
    )
    for (args, expected), run in zip(cases.items(), runs, strict=True):
        assert (run.code, run.stdout.strip()) == expected, (args, run.stderr)
    assert len(services.received) == 3
    # $USER stands in when --operator is not given.
    assert {command.requested_by for command in services.received} == {"petrov"}
    [janitor] = [c for c in services.received if isinstance(c, admin_v1.RunJanitor)]
    assert janitor.dry_run is True
    [broadcast] = [c for c in services.received if isinstance(c, admin_v1.Broadcast)]
    assert broadcast.text == "Плановые работы"


async def test_json_output_is_the_whole_answer(services: FakeServices, rabbit_url: str) -> None:
    run = await run_admin(rabbit_url, "--json", "lookup-user", "maria.ivanova@example.com")
    assert run.code == 0, run.stderr
    answer = AdminCommandCompleted.model_validate_json(run.stdout)
    [command] = services.received
    assert answer.correlation_id == command.message_id
    assert answer.result == {"email": "maria.ivanova@example.com", "active": True}


async def test_no_answer_times_out_with_6_and_the_command_stays_queued(
    services: FakeServices, rabbit_url: str
) -> None:
    run = await run_admin(rabbit_url, "--timeout", "1", "clear-location", "42")
    assert run.code == 6
    assert "no answer to admin.clear_location.v1 within 1 s" in run.stderr
    assert "Is gateway running?" in run.stderr
    connection = await aio_pika.connect(rabbit_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(
            topology.queue_name("gateway", admin_v1.ClearLocation), passive=True
        )
        message = await queue.get(no_ack=True, fail=True)
        assert message is not None
        queued = admin_v1.ClearLocation.model_validate_json(message.body)
    assert queued.telegram_user_id == 42


async def test_report_renders_the_gateways_figures(
    services: FakeServices, rabbit_url: str, tmp_path: Path
) -> None:
    target = tmp_path / "report.csv"
    run = await run_admin(
        rabbit_url,
        "report",
        "--since",
        "2026-11-02",
        "--until",
        "2026-11-15",
        "--format",
        "csv",
        "--output",
        str(target),
    )
    assert run.code == 0, run.stderr
    assert target.read_text(encoding="utf-8") == render_csv(Report.model_validate(FIGURES))
    [command] = services.received
    assert isinstance(command, admin_v1.BuildReport)
    assert (command.since.isoformat(), command.until.isoformat()) == ("2026-11-02", "2026-11-15")


async def test_bad_input_is_refused_before_anything_is_published(
    services: FakeServices, rabbit_url: str
) -> None:
    run = await run_admin(rabbit_url, "report", "--since", "2026-11-15", "--until", "2026-11-01")
    assert run.code == 2
    assert "until is before since" in run.stderr
    run = await run_admin(rabbit_url, "revoke-user", "not an address")
    assert run.code == 2
    assert services.received == []


async def test_a_broker_without_the_topology_is_an_error_not_a_wait(rabbit_url: str) -> None:
    run = await run_admin(rabbit_url, "--timeout", "5", "reload-categories")
    assert run.code == 1
    assert "could not listen for answers on helpdesk.events" in run.stderr
    assert "guest" not in run.stderr  # the URL (with its password) is never printed
