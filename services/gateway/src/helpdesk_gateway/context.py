"""The gateway's shared parts (settings, texts, repositories, clock), built once in `app.py`.

Use cases take only the parts they use (`app.build_use_cases`); what is left reaches handlers,
middlewares and admin commands as `ctx` in aiogram's workflow data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from helpdesk_runtime.broker import Publisher
from helpdesk_runtime.outbox import OutboxRelay

from helpdesk_gateway.adapters.attachments import AttachmentStore
from helpdesk_gateway.adapters.notifications import NotificationQueue
from helpdesk_gateway.adapters.tickets import TicketRepository
from helpdesk_gateway.adapters.updates import UpdateLog
from helpdesk_gateway.adapters.users import UserRepository
from helpdesk_gateway.domain.catalogue import CatalogueHolder
from helpdesk_gateway.i18n import I18n
from helpdesk_gateway.settings import GatewaySettings

Clock = Callable[[], datetime]


@dataclass
class GatewayContext:
    settings: GatewaySettings
    i18n: I18n
    catalogue: CatalogueHolder
    users: UserRepository
    tickets: TicketRepository
    attachments: AttachmentStore
    notifications: NotificationQueue
    updates: UpdateLog
    publisher: Publisher
    relay: OutboxRelay
    clock: Clock
    timezone: ZoneInfo
    wake_notifier: Callable[[], None]
