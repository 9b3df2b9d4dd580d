"""Threat: a service's broker account puts a command into another consumer's admin queue.

The review found three ways a service could reach an admin work queue without writing to
`helpdesk.admin`: publish to the redeliver exchange, or to the delay exchange, with the admin
queue's routing key, or bind the admin queue to `helpdesk.events`. On the real RabbitMQ, in a
test vhost whose whole topology exists (as the definitions file makes it), each service account
gets exactly what `helpdesk-admin permissions` prints; every route is refused by the broker or
leads nowhere, and the admin queue stays empty.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel
from aiormq.exceptions import ChannelAccessRefused
from helpdesk_admin import permissions
from helpdesk_contracts import topology
from helpdesk_contracts.admin import v1 as admin_v1
from helpdesk_contracts.auth.v1 import UserAuthorized
from helpdesk_runtime.broker import create_broker, declare_topology
from helpdesk_runtime.settings import InfraSettings
from pydantic import SecretStr

from tests.support.rabbit_accounts import Account, create_account, delete_account

pytestmark = pytest.mark.integration

ADMIN_QUEUE = topology.queue_name("auth", admin_v1.RevokeUser)
FORGED = admin_v1.RevokeUser(requested_by="forger", telegram_user_id=42)


@dataclass(frozen=True, slots=True)
class World:
    admin_url: str
    mailer: Account
    gateway: Account
    auth: Account


@pytest.fixture
async def world(rabbit_url: str) -> AsyncIterator[World]:
    broker = create_broker(InfraSettings(rabbit_url=SecretStr(rabbit_url)), service="setup")
    await broker.connect()
    try:
        await declare_topology(broker)
    finally:
        await broker.stop()
    accounts = {
        name: create_account(rabbit_url, permissions.SERVICES[name], label=name)
        for name in ("mailer", "gateway", "auth")
    }
    try:
        yield World(rabbit_url, accounts["mailer"], accounts["gateway"], accounts["auth"])
    finally:
        for account in accounts.values():
            delete_account(account)


Attempt = Callable[[AbstractChannel], Awaitable[object]]


async def _refused(account: Account, attempt: Attempt) -> bool:
    """Run one attempt on a fresh channel; True when the broker refuses it (403)."""
    connection = await aio_pika.connect(account.url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        try:
            await attempt(channel)
        except ChannelAccessRefused:
            return True
    return False


def _publish(exchange: str, routing_key: str) -> Attempt:
    async def attempt(channel: AbstractChannel) -> None:
        target = await channel.get_exchange(exchange, ensure=False)
        await target.publish(
            aio_pika.Message(FORGED.model_dump_json().encode(), content_type="application/json"),
            routing_key=routing_key,
            timeout=5,
        )

    return attempt


def _bind(queue: str, exchange: str, routing_key: str) -> Attempt:
    async def attempt(channel: AbstractChannel) -> None:
        target = await channel.get_queue(queue, ensure=False)
        await target.bind(exchange, routing_key=routing_key, timeout=5)

    return attempt


async def _depth(world: World, queue: str = ADMIN_QUEUE) -> int:
    connection = await aio_pika.connect(world.admin_url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count or 0


RETRY_KEY = topology.delay_routing_key(ADMIN_QUEUE, 1)


async def test_another_consumers_redeliver_exchange_is_refused(world: World) -> None:
    for account in (world.mailer, world.gateway):
        assert await _refused(
            account, _publish(topology.redeliver_exchange_name("auth"), RETRY_KEY)
        )
    assert await _depth(world) == 0


async def test_another_consumers_delay_exchange_is_refused(world: World) -> None:
    for account in (world.mailer, world.gateway):
        assert await _refused(account, _publish(topology.delay_exchange_name("auth"), RETRY_KEY))
    assert await _depth(world) == 0


async def test_another_consumers_dead_letter_exchange_is_refused(world: World) -> None:
    """A forged dead letter would be replayed into the admin queue by an operator's dlq replay."""
    assert await _refused(world.mailer, _publish(topology.dlx_name("auth"), ADMIN_QUEUE))
    assert await _depth(world, topology.dlq_name(ADMIN_QUEUE)) == 0


async def test_a_services_own_retry_exchanges_lead_nowhere_else(world: World) -> None:
    """Its own delay and redeliver exchanges are allowed, but bind only its own queues."""
    for exchange in (
        topology.redeliver_exchange_name("mailer"),
        topology.delay_exchange_name("mailer"),
    ):
        assert not await _refused(world.mailer, _publish(exchange, RETRY_KEY))
    await asyncio.sleep(2.5)  # past the 1 s delay tier: the copy would have come back by now
    assert await _depth(world) == 0
    assert await _depth(world, topology.delay_queue_name("mailer", 1)) == 0


async def test_binding_an_admin_queue_to_the_events_is_refused(world: World) -> None:
    events = "helpdesk.events"
    # Another service's queue: no write permission on it at all.
    assert await _refused(world.mailer, _bind(ADMIN_QUEUE, events, "#"))
    assert await _refused(world.gateway, _bind(ADMIN_QUEUE, events, FORGED.routing_key))
    # Auth's own queue: it may bind only the event keys it consumes, never an admin key or '#'.
    assert await _refused(world.auth, _bind(ADMIN_QUEUE, events, "#"))
    assert await _refused(world.auth, _bind(ADMIN_QUEUE, events, FORGED.routing_key))
    assert await _refused(world.auth, _bind(ADMIN_QUEUE, "helpdesk.admin", "admin.#"))
    # So publishing the forged command as an "event" reaches nothing but the unrouted queue.
    assert await _refused(world.mailer, _publish(events, FORGED.routing_key))
    assert await _depth(world) == 0


async def test_no_service_publishes_to_helpdesk_admin_or_another_services_events(
    world: World,
) -> None:
    for account in (world.mailer, world.gateway, world.auth):
        assert await _refused(account, _publish("helpdesk.admin", FORGED.routing_key))
    # Topic permissions: the gateway cannot pass itself off as auth.
    assert await _refused(world.gateway, _publish("helpdesk.events", UserAuthorized.routing_key))
    assert not await _refused(world.auth, _publish("helpdesk.events", UserAuthorized.routing_key))
    assert await _depth(world) == 0


async def test_each_service_starts_with_its_own_account(world: World) -> None:
    """HELPDESK_DECLARE_TOPOLOGY=own: what a service declares at start its account may do."""
    services: tuple[tuple[topology.Consumer, Account], ...] = (
        ("mailer", world.mailer),
        ("gateway", world.gateway),
    )
    for name, account in services:
        broker = create_broker(InfraSettings(rabbit_url=SecretStr(account.url)), service=name)
        await broker.connect()
        try:
            await declare_topology(broker, only=name)
        finally:
            await broker.stop()
