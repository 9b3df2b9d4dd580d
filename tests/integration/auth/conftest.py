"""The auth service in-process against real slapd, RabbitMQ and the Mongo-wire server.

`auth_world` starts the app and a `Bus` that sees what a neighbour would: every event on
`helpdesk.events` and every SendMail that reaches the mailer's queue.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel
from aio_pika.exceptions import ChannelClosed
from helpdesk_auth.app import AuthService, build
from helpdesk_auth.settings import AuthSettings
from helpdesk_contracts import topology
from helpdesk_contracts.admin.v1 import AdminCommandCompleted
from helpdesk_contracts.auth.v1 import (
    CodeRejected,
    CodeSent,
    RejectReason,
    RequestCode,
    UserAuthorized,
    VerifyCode,
)
from helpdesk_contracts.base import Message
from helpdesk_contracts.mail.v1 import SendMail
from helpdesk_harness.ldap_server import SlapdServer
from helpdesk_harness.rabbit import Vhost
from helpdesk_runtime.settings import InfraSettings
from pydantic import JsonValue, SecretStr

from tests.support.bus import Bus as SupportBus
from tests.support.handlers import HandlerTracker

PEPPER = "integration-test-pepper-0123456789"
SEND_MAIL_QUEUE = topology.queue_name("mailer", SendMail)

M = TypeVar("M", bound=Message)


class FakeClock:
    """The time auth sees; tests move it forward instead of sleeping.

    It starts at the real time because MongoDB's TTL monitor (and mongoeco's read-time TTL)
    use the real clock: documents must not look long expired to the server.
    """

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Bus(SupportBus):
    """Every event on `helpdesk.events`, and every SendMail that reaches the mailer's queue."""

    def __init__(self, channel: AbstractChannel) -> None:
        super().__init__(channel, queues=[SEND_MAIL_QUEUE])

    async def answer(self, command: Message, within: float = 10) -> CodeSent | CodeRejected:
        """The CodeSent or CodeRejected that answers a RequestCode/VerifyCode."""
        found = await self.wait_for(
            Message,
            lambda m: (
                isinstance(m, CodeSent | CodeRejected) and m.correlation_id == command.message_id
            ),
            within,
        )
        assert isinstance(found, CodeSent | CodeRejected)
        return found


async def _true(value: bool) -> bool:
    return value


async def _until(condition: Callable[[], Awaitable[bool]], within: float = 10) -> None:
    async with asyncio.timeout(within):
        while True:
            if await condition():
                return
            await asyncio.sleep(0.02)


@dataclass
class AuthWorld:
    service: AuthService
    bus: Bus
    clock: FakeClock
    handlers: HandlerTracker
    _markers: int = field(default=0)

    async def request(self, telegram_user_id: int, email: str) -> RequestCode:
        command = RequestCode(
            telegram_user_id=telegram_user_id, chat_id=telegram_user_id, email=email
        )
        await self.bus.publish(command)
        return command

    async def verify(self, telegram_user_id: int, code: str) -> VerifyCode:
        command = VerifyCode(telegram_user_id=telegram_user_id, chat_id=telegram_user_id, code=code)
        await self.bus.publish(command)
        return command

    async def ask(self, telegram_user_id: int, email: str) -> CodeSent | CodeRejected:
        return await self.bus.answer(await self.request(telegram_user_id, email))

    async def refused(self, telegram_user_id: int, email: str) -> CodeRejected:
        answer = await self.ask(telegram_user_id, email)
        assert isinstance(answer, CodeRejected), answer
        return answer

    async def mail_for(self, request: RequestCode) -> SendMail:
        return await self.bus.wait_for(SendMail, lambda m: m.correlation_id == request.message_id)

    async def code_for(self, telegram_user_id: int, email: str) -> tuple[CodeSent, str]:
        """Request a code and read it from the email the mailer was asked to send."""
        request = await self.request(telegram_user_id, email)
        answer = await self.bus.answer(request)
        assert isinstance(answer, CodeSent), answer
        mail = await self.mail_for(request)
        return answer, mail.variables["code"]

    async def try_code(self, telegram_user_id: int, code: str) -> Message:
        """The answer to one VerifyCode: UserAuthorized or CodeRejected."""
        command = await self.verify(telegram_user_id, code)
        return await self.bus.wait_for(
            Message,
            lambda m: (
                isinstance(m, UserAuthorized | CodeRejected)
                and m.correlation_id == command.message_id
            ),
        )

    async def sign_in(self, telegram_user_id: int, email: str) -> UserAuthorized:
        _, code = await self.code_for(telegram_user_id, email)
        answer = await self.try_code(telegram_user_id, code)
        assert isinstance(answer, UserAuthorized), answer
        return answer

    async def settle(self) -> None:
        """Return once everything auth was going to do and publish so far has reached the bus.

        A marker published after the test's messages is delivered after them; once it is
        answered and no handler is running, they were all handled. Once the outboxes are
        empty their answers are published, and a last marker's answer, relayed on the same
        channel after them, arrives after them.
        """
        await self._marker()
        await _until(lambda: _true(self.handlers.idle))
        await _until(self._outboxes_empty)
        await self._marker()

    async def settle_retries(self) -> None:
        """`settle`, after any message parked in a delay tier for a retry has come back."""
        connection = await aio_pika.connect(
            self.service.runtime.infra.rabbit_url.get_secret_value()
        )
        async with connection:
            channel = await connection.channel()

            async def delays_empty() -> bool:
                for tier in topology.DELAY_TIERS_SECONDS:
                    name = topology.delay_queue_name(tier)
                    queue = await channel.declare_queue(name, passive=True)
                    if queue.declaration_result.message_count:
                        return False
                return True

            await _until(delays_empty, within=15)
        await self.settle()

    async def _outboxes_empty(self) -> bool:
        for collection in self.service.store.outbox_collections:
            if await collection.find_one({"outbox.0": {"$exists": True}}) is not None:
                return False
        return True

    async def _marker(self) -> None:
        self._markers += 1
        uid = 2**52 - self._markers
        request = await self.bus.answer(await self.request(uid, "not an address"))
        assert isinstance(request, CodeRejected)
        assert request.reason is RejectReason.INVALID_EMAIL
        verify = await self.bus.answer(await self.verify(uid, "000000"))
        assert isinstance(verify, CodeRejected)


def users_of(answer: AdminCommandCompleted) -> list[dict[str, JsonValue]]:
    """The users a LookupUser answer lists."""
    users = answer.result.get("users")
    assert isinstance(users, list)
    return [user for user in users if isinstance(user, dict)]


SettingsFactory = Callable[..., AuthSettings]
WorldFactory = Callable[..., Awaitable[AuthWorld]]


@pytest.fixture(scope="package")
def auth_vhost() -> Iterator[str]:
    """One vhost for the auth tests: declaring the topology into a fresh vhost costs more than
    a test itself, so tests share one and `auth_rabbit_url` empties its queues per test."""
    vhost = Vhost(prefix="helpdesk-auth-test")
    vhost.create()
    yield vhost.url
    vhost.delete()


@pytest.fixture
async def auth_rabbit_url(auth_vhost: str) -> str:
    """The shared auth vhost with every queue of the topology empty (if declared yet)."""
    connection = await aio_pika.connect(auth_vhost)
    async with connection:
        channel = await connection.channel()
        for queue, _ in topology.all_work_queues():
            for name in (queue.name, topology.dlq_name(queue.name)):
                try:
                    await (await channel.declare_queue(name, passive=True)).purge()
                except ChannelClosed:
                    return auth_vhost  # not declared yet: the first test of the run
    return auth_vhost


@pytest.fixture
def auth_settings(
    slapd: SlapdServer, auth_rabbit_url: str, mongo_url: str, mongo_db_name: str
) -> SettingsFactory:
    """Settings for an in-process auth on this test's vhost and database, reading `directory`
    (the shared read-only slapd unless given) over plain LDAP."""

    def make(directory: SlapdServer | None = None, **overrides: Any) -> AuthSettings:
        server = directory or slapd
        infra = InfraSettings(
            rabbit_url=SecretStr(auth_rabbit_url),
            mongo_url=SecretStr(mongo_url),
            mongo_db=mongo_db_name,
            graceful_timeout_seconds=5.0,
        )
        values: dict[str, Any] = {
            "code_pepper": SecretStr(PEPPER),
            "ldap_url": server.url,
            "ldap_security": "plain",
            "ldap_bind_dn": server.service_dn,
            "ldap_bind_password": SecretStr(server.service_password),
            "ldap_base_dn": server.base_dn,
            "ldap_connect_timeout_seconds": 2.0,
            "ldap_receive_timeout_seconds": 2,
        } | overrides
        return AuthSettings(infra=infra, **values)

    return make


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def auth_world(
    auth_settings: SettingsFactory, auth_rabbit_url: str, clock: FakeClock
) -> AsyncIterator[WorldFactory]:
    """`world = await auth_world(**settings)`: auth running, with the test's bus attached."""
    services: list[AuthService] = []
    connection = await aio_pika.connect(auth_rabbit_url)

    async def start(settings: AuthSettings | None = None, **overrides: Any) -> AuthWorld:
        service = build(settings or auth_settings(**overrides), clock=clock)
        # The shared relay can miss a wake-up that arrives while it is mid-pass and then
        # sleeps its full interval; a short interval keeps the tests from waiting on that.
        service.relay.interval_seconds = 0.05
        await service.app.start()
        services.append(service)
        bus = Bus(await connection.channel(publisher_confirms=True))
        await bus.listen()
        return AuthWorld(service, bus, clock, tracker)

    tracker = HandlerTracker()
    faststream_log = logging.getLogger("helpdesk.auth.faststream")
    faststream_log.addHandler(tracker)
    try:
        yield start
    finally:
        faststream_log.removeHandler(tracker)
        for service in services:
            await service.app.stop()
        await connection.close()
