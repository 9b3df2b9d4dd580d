"""The inbox in-process against real Dovecot POP3, RabbitMQ and the Mongo-wire server.

`inbox_env` gives a test a mailbox of its own on the session Dovecot (or a private Dovecot),
its broker vhost and database, `settings(...)`, `build(...)` for an InboxService, `running(...)`
to start/stop its app the way ops would, `teach(...)` to publish the TicketEmailed that
introduces a ticket, and `events`, a private queue bound to what the inbox publishes.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from helpdesk_contracts import topology
from helpdesk_contracts.ticket.v1 import TicketEmailed
from helpdesk_harness.pop3_server import DovecotServer
from helpdesk_inbox.app import InboxService, build_service
from helpdesk_inbox.process import Clock
from helpdesk_inbox.settings import InboxSettings
from helpdesk_runtime.broker import Publisher
from helpdesk_runtime.settings import InfraSettings
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]
WATCHED = ("ticket.status_changed.v1", "inbox.message_unmatched.v1", "ticket.comment_added.v1")
TRUSTED_SENDER = "im@example.com"
"""The simulated InfraManager's address, the one entry of INBOX_TRUSTED_SENDERS in tests."""


def new_ticket() -> tuple[str, str]:
    """A fresh (ticket_id, reference) pair."""
    return secrets.token_hex(12), "TG-" + secrets.token_hex(3).upper()


def mailer_message_id(ticket_id: str, reference: str) -> str:
    return f"<{reference}.{ticket_id}@helpdesk.example.com>"


def notification(
    *,
    subject: str,
    body: str,
    date: str = "Thu, 26 Nov 2026 10:31:00 +0300",
    headers: str = "",
) -> bytes:
    """An InfraManager-style notification, utf-8 plain text, LF line ends (as in a Maildir)."""
    from email.header import Header

    head = (
        "From: InfraManager <im@example.com>\n"
        "To: helpdesk@example.com\n"
        f"Subject: {Header(subject, 'utf-8').encode()}\n"
        f"Date: {date}\n"
        f"Message-ID: <im-{secrets.token_hex(6)}@im.example.com>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n"
        f"{headers}"
    )
    return (head + "\n" + body).encode("utf-8")


def status_mail(reference: str | None, number: str, status: str, **kwargs: Any) -> bytes:
    tag = f" [{reference}]" if reference else ""
    return notification(
        subject=f"Заявка №{number}{tag} Не печатает принтер",
        body=f"Статус: {status}\n\nС уважением, служба ИТ\n",
        **kwargs,
    )


@dataclass
class EventTap:
    """A private queue bound to the events the inbox publishes."""

    connection: AbstractRobustConnection
    received: list[tuple[str, Document]] = field(default_factory=list)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _started: bool = False

    async def start(self) -> None:
        """Bind the queue (once; later calls do nothing)."""
        if self._started:
            return
        self._started = True
        channel = await self.connection.channel()
        exchange = await channel.declare_exchange(
            topology.EVENTS.name,
            aio_pika.ExchangeType.TOPIC,
            durable=True,
            arguments=dict(topology.EVENTS.arguments),
        )
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for key in WATCHED:
            await queue.bind(exchange, routing_key=key)
        await queue.consume(self._on_message)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        async with message.process():
            self.received.append((message.routing_key or "", json.loads(message.body)))
            self._arrived.set()

    def of(self, routing_key: str) -> list[Document]:
        return [body for key, body in self.received if key == routing_key]

    @property
    def status_changes(self) -> list[Document]:
        return self.of("ticket.status_changed.v1")

    @property
    def unmatched(self) -> list[Document]:
        return self.of("inbox.message_unmatched.v1")

    async def wait_for(self, count: int, *, within: float = 10.0) -> list[tuple[str, Document]]:
        """Wait until at least `count` events arrived, then a little more for extras."""
        try:
            async with asyncio.timeout(within):
                while len(self.received) < count:
                    self._arrived.clear()
                    await self._arrived.wait()
        except TimeoutError:
            raise TimeoutError(f"{len(self.received)} of {count} events: {self.received}") from None
        await asyncio.sleep(0.3)  # anything published twice would arrive by now
        return list(self.received)


@dataclass
class InboxEnv:
    rabbit_url: str
    mongo_url: str
    db: AsyncDatabase[Document]
    dovecot: DovecotServer
    user: str
    events: EventTap

    def settings(self, **overrides: Any) -> InboxSettings:
        values: dict[str, Any] = {
            "infra": InfraSettings(
                rabbit_url=self.rabbit_url,  # type: ignore[arg-type]
                mongo_url=self.mongo_url,  # type: ignore[arg-type]
                mongo_db=self.db.name,
                publish_timeout_seconds=5,
                graceful_timeout_seconds=5,
            ),
            "pop3_host": self.dovecot.host,
            "pop3_port": self.dovecot.pop3_port,
            "pop3_security": "plain",
            "pop3_user": self.user,
            "pop3_password": self.dovecot.password,
            "pop3_connect_timeout_seconds": 3,
            "pop3_timeout_seconds": 10,
            "poll_enabled": False,  # tests poll when they choose, and count what happened
            "match_grace_seconds": 0,
            "confirm_timeout_seconds": 5,
            "trusted_senders": TRUSTED_SENDER,
        }
        values.update(overrides)
        return InboxSettings(**values)

    def build(self, settings: InboxSettings | None = None, **kwargs: Any) -> InboxService:
        return build_service(settings or self.settings(), **kwargs)

    @asynccontextmanager
    async def running(
        self, settings: InboxSettings | None = None, *, clock: Clock | None = None
    ) -> AsyncIterator[InboxService]:
        # Bound before the app starts: its relay may publish pending events at once.
        await self.events.start()
        service = self.build(settings, **({"clock": clock} if clock else {}))
        async with service.app:
            yield service

    async def teach(self, service: InboxService, ticket_id: str, reference: str) -> str:
        """Publish the TicketEmailed the mailer would, and wait until the inbox learned it."""
        message_id = mailer_message_id(ticket_id, reference)
        await Publisher(service.runtime.broker, timeout=5).publish(
            TicketEmailed(
                ticket_id=ticket_id,
                reference=reference,
                email_message_id=message_id,
                sent_at=datetime.now(UTC),
            )
        )
        for _ in range(200):
            if await self.db["itsm_links"].find_one({"_id": ticket_id}):
                return message_id
            await asyncio.sleep(0.05)
        raise TimeoutError(f"the inbox never learned {reference}")

    def retr_count(self) -> int:
        return self.dovecot.retr_count(self.user)

    def sessions(self, count: int) -> list[Any]:
        """Wait for `count` ended POP3 sessions of this mailbox and return their stats."""
        return self.dovecot.wait_for_logouts(count, self.user)


@pytest.fixture
async def events(rabbit_url: str) -> AsyncIterator[EventTap]:
    connection = await aio_pika.connect_robust(rabbit_url)
    try:
        yield EventTap(connection)
    finally:
        await connection.close()


@pytest.fixture
def inbox_env(
    rabbit_url: str,
    mongo_url: str,
    mongo_db: AsyncDatabase[Document],
    dovecot: DovecotServer,
    events: EventTap,
) -> InboxEnv:
    """A mailbox of the test's own on the session Dovecot."""
    return InboxEnv(rabbit_url, mongo_url, mongo_db, dovecot, dovecot.add_user(), events)


@pytest.fixture
def private_inbox_env(
    rabbit_url: str,
    mongo_url: str,
    mongo_db: AsyncDatabase[Document],
    dovecot_fresh: DovecotServer,
    events: EventTap,
) -> InboxEnv:
    """A private Dovecot, for tests that stop and start the server."""
    return InboxEnv(rabbit_url, mongo_url, mongo_db, dovecot_fresh, dovecot_fresh.user, events)
