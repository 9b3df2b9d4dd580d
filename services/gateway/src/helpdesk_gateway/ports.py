"""What the use cases need from storage and delivery, as narrow protocols: each use case names
only the calls it makes, so its unit tests pass small in-memory fakes (tests/unit/gateway)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from helpdesk_gateway.adapters.notifications import Notification
from helpdesk_gateway.adapters.users import GatewayUser
from helpdesk_gateway.domain.tickets import TicketRecord

Clock = Callable[[], datetime]
Wake = Callable[[], None]
"""Wakes a background job (the notifier, the outbox relay) at once instead of at its next tick."""


class TicketReader(Protocol):
    async def get(self, ticket_id: str) -> TicketRecord | None: ...


class Users(Protocol):
    async def get(self, user_id: int) -> GatewayUser | None: ...


class Queue(Protocol):
    """The notifications queue: False when this notification's cause was queued before."""

    async def enqueue(self, notification: Notification, now: datetime) -> bool: ...
