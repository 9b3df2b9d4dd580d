"""The gateway in-process against the fake Bot API, real RabbitMQ and the Mongo-wire server.

`world` starts the gateway and a `Bus` that plays its neighbours: it hears what the gateway
publishes (RequestCode, VerifyCode, TicketSubmitted, TicketRated, AdminCommandCompleted) and
publishes what auth, the mailer and the inbox would.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel
from helpdesk_contracts import topology
from helpdesk_contracts.auth.v1 import EmployeeProfile, UserAuthorized
from helpdesk_contracts.base import Message
from helpdesk_gateway.app import Gateway, build_gateway
from helpdesk_gateway.settings import GatewaySettings
from helpdesk_harness import admin_keys
from helpdesk_harness.fake_telegram.client import FakeTelegramClient
from helpdesk_harness.fake_telegram.models import ChatMessage, User
from helpdesk_harness.fake_telegram.server import FakeTelegramServer
from helpdesk_runtime.settings import InfraSettings
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.bus import Bus
from tests.support.handlers import HandlerTracker

M = TypeVar("M", bound=Message)
WAIT = 20.0  # mongoeco on a busy 2-core machine is slow; a healthy run answers in well under 1 s

Document = dict[str, Any]


class MovableClock:
    """Real time plus an offset the test moves forward (TTL indexes use the real clock)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def neighbours_bus(channel: AbstractChannel) -> Bus:
    """Hears every event and the commands the gateway sends to auth."""
    return Bus(channel, [("helpdesk.events", "#"), ("helpdesk.commands", "auth.#")])


def new_user(language_code: str = "ru", first_name: str = "Мария") -> User:
    return User(id=random.randint(10**8, 10**9), first_name=first_name, language_code=language_code)


def profile(name: str = "Иванова Мария Петровна") -> EmployeeProfile:
    return EmployeeProfile(
        email="maria.ivanova@example.com",
        display_name=name,
        department="Бухгалтерия",
        directory_dn="uid=maria.ivanova,ou=people,dc=example,dc=com",
    )


def button(message: ChatMessage, text: str) -> str:
    return message.callback_data(text)


@dataclass
class World:
    tg: FakeTelegramClient
    bus: Bus
    clock: MovableClock
    settings: GatewaySettings
    db: AsyncDatabase[Document]
    handlers: HandlerTracker = field(default_factory=HandlerTracker)
    gateway: Gateway | None = None
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    @property
    def g(self) -> Gateway:
        assert self.gateway is not None, "the gateway is not running"
        return self.gateway

    async def start(self, **overrides: Any) -> Gateway:
        # Validated again, so overrides get the types the settings declare (SecretStr, Path).
        settings = GatewaySettings(**{**self.settings.model_dump(), **overrides})
        self.gateway = build_gateway(settings, clock=self.clock)
        await self.gateway.app.start()
        await asyncio.wait_for(self.gateway.telegram.ready.wait(), WAIT)
        return self.gateway

    async def stop(self) -> None:
        if self.gateway is not None:
            await self.gateway.app.stop()
            self.gateway = None

    # -- acting as a user -----------------------------------------------------------------------

    async def reply(
        self, user: User, predicate: Callable[[ChatMessage], bool] | None = None
    ) -> ChatMessage:
        return await self.tg.wait_for_bot_message(user.id, predicate, timeout=WAIT)

    async def reply_text(self, user: User, text: str) -> ChatMessage:
        """The next bot message, which must read exactly `text`."""
        message = await self.reply(user)
        assert message.visible_text == text
        return message

    async def press(self, user: User, message: ChatMessage, text: str) -> str:
        """Press a button by its caption; returns the callback query id."""
        press = await self.tg.press_button(user, message.message_id, button(message, text))
        return press.callback_query_id

    async def edited(
        self,
        user: User,
        message: ChatMessage,
        predicate: Callable[[ChatMessage], bool] | None = None,
    ) -> ChatMessage:
        return await self.tg.wait_for_edit(user.id, message.message_id, predicate, timeout=WAIT)

    async def answer_of(self, callback_query_id: str) -> dict[str, Any]:
        """How the bot answered a button press (waits for it)."""
        async with asyncio.timeout(WAIT):
            while True:  # the fake's state, polled: nothing here to wait on
                answer = await self.tg.callback_answer(callback_query_id)
                if answer is not None:
                    return answer
                await asyncio.sleep(0.05)

    async def sign_in(self, user: User, name: str = "Иванова Мария Петровна") -> ChatMessage:
        """As if auth had verified the user's code: UserAuthorized; returns the greeting."""
        await self.tg.add_user(user)
        await self.bus.publish(
            UserAuthorized(
                telegram_user_id=user.id,
                chat_id=user.id,
                profile=profile(name),
                authorized_at=self.clock(),
            )
        )
        return await self.reply(user, lambda m: name in m.visible_text)

    async def start_ticket(self, user: User) -> ChatMessage:
        """Open the wizard from the menu; returns the category question."""
        await self.tg.send_text(
            user, "📝 Новая заявка" if user.language_code == "ru" else "📝 New ticket"
        )
        return await self.reply(user, lambda m: bool(m.inline_keyboard))

    async def ticket_to_preview(
        self, user: User, *, description: str = "Принтер зажевал бумагу, горит лампа"
    ) -> ChatMessage:
        """Category 'Сеть и интернет', a description, no place, no photos: the preview."""
        question = await self.start_ticket(user)
        await self.press(user, question, "Сеть и интернет")
        await self.reply(user, lambda m: m.visible_text.startswith("Опишите, что случилось"))
        await self.tg.send_text(user, description)
        location = await self.reply(user, lambda m: m.visible_text.startswith("Где вы"))
        await self.press(user, location, "Пропустить")
        photos = await self.reply(user, lambda m: m.visible_text.startswith("Приложите фото"))
        await self.press(user, photos, "Без фото")
        return await self.reply(user, lambda m: m.visible_text.startswith("Проверьте заявку"))

    async def settle(self, *, quiet: float = 0.3, within: float = WAIT) -> None:
        """Wait until the gateway consumed what was published to it and delivered what that
        caused: empty work queues, no handler running, no pending notification or outbox
        entry, and all of it for `quiet` seconds (a message the broker has just handed over is
        in no queue count yet)."""
        queues = [topology.queue_name("gateway", m) for m in topology.SUBSCRIPTIONS["gateway"]]
        loop = asyncio.get_running_loop()
        calm_since: float | None = None
        async with asyncio.timeout(within):
            while True:
                depths = [await self.bus.queue_depth(name) for name in queues]
                pending = await self.db["gateway_notifications"].find_one({"state": "pending"})
                outbox = await self.db["tickets"].find_one({"outbox.0": {"$exists": True}})
                if any(depths) or not self.handlers.idle or pending or outbox:
                    calm_since = None
                elif calm_since is None:
                    calm_since = loop.time()
                elif loop.time() - calm_since >= quiet:
                    return
                await asyncio.sleep(0.05)


def gateway_settings(
    server: FakeTelegramServer, rabbit_url: str, mongo_url: str, db_name: str, **overrides: Any
) -> GatewaySettings:
    """Settings for a test run: pacing relaxed (it has unit tests) so journeys run fast."""
    values: dict[str, Any] = {
        "bot_token": server.token,
        "telegram_api_base": server.base_url,
        "infra": InfraSettings(
            rabbit_url=rabbit_url,  # type: ignore[arg-type]
            mongo_url=mongo_url,  # type: ignore[arg-type]
            mongo_db=db_name,
            log_format="text",
            graceful_timeout_seconds=5,
            admin_public_keys=admin_keys.PUBLIC_KEYS,
        ),
        "polling_timeout_seconds": 5,
        "per_chat_rate": 50.0,
        "per_chat_burst": 20,
        "album_quiet_seconds": 0.4,
        "scheduler_interval_seconds": 0.2,
    }
    values.update(overrides)
    return GatewaySettings(**values)


@pytest.fixture
async def world(
    fake_telegram_server: FakeTelegramServer,
    fake_telegram: FakeTelegramClient,
    rabbit_url: str,
    mongo_url: str,
    mongo_db_name: str,
    tmp_path: Path,
) -> AsyncIterator[World]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongo_url, tz_aware=True)
    settings = gateway_settings(fake_telegram_server, rabbit_url, mongo_url, mongo_db_name)
    connection = await aio_pika.connect(rabbit_url)
    world = World(
        tg=fake_telegram,
        bus=neighbours_bus(await connection.channel()),
        clock=MovableClock(),
        settings=settings,
        db=client[mongo_db_name],
    )
    consumers_log = logging.getLogger("helpdesk.gateway.faststream")
    consumers_log.addHandler(world.handlers)
    try:
        await world.start()  # declares the topology the bus binds to
        await world.bus.listen()
        yield world
    finally:
        consumers_log.removeHandler(world.handlers)
        await world.stop()
        await connection.close()
        await client.drop_database(mongo_db_name)
        await client.close()
