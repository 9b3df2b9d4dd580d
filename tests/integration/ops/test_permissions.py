"""The RabbitMQ permissions in docs/operations.md, applied to the real broker.

Three accounts in a fresh vhost, with exactly the rights `helpdesk-admin permissions` prints:
the services run the whole topology but cannot publish an admin command; operators publish admin
commands, read the answers and manage dead letters, nothing else; an integrator binds queues of
its own to helpdesk.events and can neither publish nor read the services' queues.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import aio_pika
import pytest
from aiormq.exceptions import ChannelAccessRefused
from helpdesk_admin import permissions
from helpdesk_contracts import topology
from helpdesk_contracts.admin import v1 as admin_v1
from helpdesk_contracts.admin.v1 import AdminCommandCompleted, Outcome
from helpdesk_harness.rabbit import _management, _rabbitmqctl
from helpdesk_runtime.broker import (
    Publisher,
    create_broker,
    declare_topology,
    subscriber,
)
from helpdesk_runtime.settings import InfraSettings
from pydantic import SecretStr

from tests.integration.ops.admin_cli import run_admin

pytestmark = pytest.mark.integration

AUTH_QUEUE = topology.queue_name("auth", admin_v1.RevokeUser)
MAILER_QUEUE = "mailer.ticket.submitted.v1"


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    url: str


def _create(vhost: str, base_url: str, right: permissions.Permission) -> Account:
    name = f"helpdesk-test-{uuid.uuid4().hex[:10]}"
    password = uuid.uuid4().hex
    rights = {"configure": right.configure, "write": right.write, "read": right.read}
    if _management("PUT", f"users/{quote(name)}", {"password": password, "tags": ""}):
        _management("PUT", f"permissions/{quote(vhost, safe='')}/{quote(name)}", rights)
    else:
        _rabbitmqctl("add_user", name, password)
        _rabbitmqctl("set_permissions", "-p", vhost, name, *rights.values())
    parts = urlsplit(base_url)
    netloc = f"{name}:{password}@{parts.hostname}:{parts.port}"
    return Account(name, urlunsplit((parts.scheme, netloc, parts.path, "", "")))


def _delete(account: Account) -> None:
    if not _management("DELETE", f"users/{quote(account.name)}"):
        _rabbitmqctl("delete_user", account.name)


@dataclass(frozen=True, slots=True)
class Accounts:
    services: Account
    operators: Account
    integrator: Account


@pytest.fixture
def accounts(rabbit_url: str) -> Iterator[Accounts]:
    vhost = unquote(urlsplit(rabbit_url).path.lstrip("/"))
    created = Accounts(
        services=_create(vhost, rabbit_url, permissions.SERVICES),
        operators=_create(vhost, rabbit_url, permissions.OPERATORS),
        integrator=_create(vhost, rabbit_url, permissions.integrator("crm.")),
    )
    try:
        yield created
    finally:
        for account in (created.services, created.operators, created.integrator):
            _delete(account)


@pytest.fixture
async def running_services(accounts: Accounts) -> AsyncIterator[None]:
    """A fake auth, connected as the services' account: declares the topology and answers."""
    broker = create_broker(
        InfraSettings(rabbit_url=SecretStr(accounts.services.url)), service="fake"
    )
    publisher = Publisher(broker, timeout=5)

    @subscriber(broker, "auth", admin_v1.RevokeUser)
    async def revoke(command: admin_v1.RevokeUser) -> None:
        await publisher.publish(
            AdminCommandCompleted(
                correlation_id=command.message_id,
                command=command.routing_key,
                service="auth",
                outcome=Outcome.DONE,
                detail=f"user {command.telegram_user_id} revoked",
            )
        )

    await broker.connect()
    await declare_topology(broker)  # the whole topology, as the services' account
    await broker.start()
    try:
        yield
    finally:
        await broker.stop()


async def _refused(url: str, action: str, target: str) -> bool:
    """Try one thing on a fresh channel; True when the broker refuses it (403)."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        try:
            if action == "publish":
                exchange = await channel.get_exchange(target, ensure=False)
                await exchange.publish(aio_pika.Message(b"{}"), routing_key="x", timeout=5)
            elif action == "get":
                queue = await channel.get_queue(target, ensure=False)
                await queue.get(no_ack=True, fail=False, timeout=5)
            elif action == "declare":
                await channel.declare_queue(target, durable=True)
            else:
                raise ValueError(action)
        except ChannelAccessRefused:
            return True
    return False


async def _dead_letter_one(admin_url: str) -> None:
    """As the broker's admin: a message rejected from the mailer's queue, now in its DLQ."""
    connection = await aio_pika.connect(admin_url)
    async with connection:
        channel = await connection.channel()
        await channel.default_exchange.publish(aio_pika.Message(b"{}"), routing_key=MAILER_QUEUE)
        queue = await channel.get_queue(MAILER_QUEUE, ensure=False)
        message = await queue.get(no_ack=False, fail=True, timeout=5)
        assert message is not None
        await message.reject(requeue=False)


async def _count(admin_url: str, queue_name: str) -> int:
    connection = await aio_pika.connect(admin_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, passive=True)
        return queue.declaration_result.message_count or 0


@pytest.mark.usefixtures("running_services")
async def test_each_account_can_do_its_job_and_nothing_else(
    accounts: Accounts, rabbit_url: str
) -> None:
    services, operators, integrator = accounts.services, accounts.operators, accounts.integrator

    # Operators: an admin command and its answer, through the CLI.
    run = await run_admin(operators.url, "--operator", "ops:test", "revoke-user", "77")
    assert (run.code, run.stdout.strip()) == (0, "auth: done: user 77 revoked"), run.stderr
    # ...and the dead-letter queues.
    listed = await run_admin(operators.url, "dlq", "list", "--all")
    assert listed.code == 0, listed.stderr
    assert "missing" not in listed.stdout
    await _dead_letter_one(rabbit_url)
    replayed = await run_admin(operators.url, "dlq", "replay", MAILER_QUEUE)
    assert replayed.code == 0, replayed.stderr
    assert await _count(rabbit_url, MAILER_QUEUE) == 1
    await _dead_letter_one(rabbit_url)
    purged = await run_admin(operators.url, "dlq", "purge", "--yes", MAILER_QUEUE)
    assert purged.code == 0, purged.stderr
    assert await _count(rabbit_url, topology.dlq_name(MAILER_QUEUE)) == 0

    # Only operators publish admin commands.
    assert await _refused(services.url, "publish", "helpdesk.admin")
    assert await _refused(integrator.url, "publish", "helpdesk.admin")
    assert not await _refused(operators.url, "publish", "helpdesk.admin")
    # Operators cannot fake events nor read the services' work.
    assert await _refused(operators.url, "publish", "helpdesk.events")
    assert await _refused(operators.url, "get", AUTH_QUEUE)
    # Integrators read events into their own queues, and nothing else.
    assert not await _refused(integrator.url, "declare", "crm.tickets")
    assert await _refused(integrator.url, "declare", "auth.stolen")
    assert await _refused(integrator.url, "publish", "helpdesk.events")
    assert await _refused(integrator.url, "get", AUTH_QUEUE)
    connection = await aio_pika.connect(integrator.url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue("crm.tickets", durable=True)
        await queue.bind("helpdesk.events", routing_key="ticket.#")
