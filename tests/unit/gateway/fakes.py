"""In-memory stand-ins for the gateway's storage, for use-case tests: each keeps what was
written so a test can look at it as a neighbour would (a ticket, a queued message)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from helpdesk_contracts.auth.v1 import EmployeeProfile
from helpdesk_contracts.base import Locale
from helpdesk_gateway.adapters.notifications import Notification
from helpdesk_gateway.adapters.users import GatewayUser, UserStatus
from helpdesk_gateway.domain.tickets import TicketRecord

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def employee(user_id: int = 1001, locale: Locale = "ru", **extra: object) -> GatewayUser:
    fields: dict[str, object] = {
        "telegram_user_id": user_id,
        "chat_id": user_id,
        "locale": locale,
        "status": UserStatus.AUTHORIZED,
        "reachable": True,
        "profile": EmployeeProfile(
            email="maria.ivanova@example.com",
            display_name="Иванова Мария Петровна",
            directory_dn="uid=maria,ou=people,dc=example,dc=com",
        ),
    }
    fields.update(extra)
    return GatewayUser(**fields)  # type: ignore[arg-type]


@dataclass
class FakeUsers:
    known: dict[int, GatewayUser] = field(default_factory=dict)

    async def get(self, user_id: int) -> GatewayUser | None:
        return self.known.get(user_id)


@dataclass
class FakeOwnTickets:
    """Tickets by id; each employee finds only their own."""

    stored: dict[str, TicketRecord]

    async def get(self, ticket_id: str) -> TicketRecord | None:
        return self.stored.get(ticket_id)

    async def of_user(self, ticket_id: str, user_id: int) -> TicketRecord | None:
        found = self.stored.get(ticket_id)
        return found if found is not None and found.user_id == user_id else None


@dataclass
class FakeQueue:
    """The notifications queue: one message per key, as the real one."""

    queued: dict[str, Notification] = field(default_factory=dict)

    async def enqueue(self, notification: Notification, now: datetime) -> bool:
        if notification.key in self.queued:
            return False
        self.queued[notification.key] = notification
        return True

    def texts(self) -> list[str]:
        return [n.text for n in self.queued.values()]


@dataclass
class Wakes:
    """Counts how often a background job was woken."""

    count: int = 0

    def __call__(self) -> None:
        self.count += 1


def button_texts(notification: Notification) -> list[str]:
    rows = (notification.markup or {}).get("inline_keyboard", [])
    return [button["text"] for row in rows for button in row]
