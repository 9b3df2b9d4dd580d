"""RabbitMQ topology, declared once for every service.

- `helpdesk.events`, `helpdesk.commands`, `helpdesk.admin`: durable topic exchanges, routing key =
  the message's `routing_key`. Events that no queue is bound to go to the alternate exchange
  `helpdesk.unrouted` (kept for operators), so publishing an event nobody consumes yet is not an
  error; a command nobody consumes is (mandatory publish raises).
- Work queues `<consumer>.<routing_key>`: durable quorum queues with `x-delivery-limit` and
  at-least-once dead-lettering into `helpdesk.dlx`, which routes to `<queue>.dlq`.
- Delayed retry without plugins: a message to retry is published to `helpdesk.delay` with routing
  key `<tier>.<queue>`; the tier queue `helpdesk.delay.<tier>` holds it for the tier's TTL and then
  dead-letters it to `helpdesk.redeliver`, where `<queue>` is bound with `*.<queue>`.

Every service declares the whole topology at start-up, so a command published before its consumer
first started waits in its queue instead of being returned.

The topology is plain data (`Exchange`, `Queue`, `Binding`) so that this package needs pydantic
only; `helpdesk_runtime.broker` turns it into FastStream objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from helpdesk_contracts.admin import v1 as admin_v1
from helpdesk_contracts.auth import v1 as auth_v1
from helpdesk_contracts.base import ADMIN_EXCHANGE, COMMANDS_EXCHANGE, EVENTS_EXCHANGE, Message
from helpdesk_contracts.mail import v1 as mail_v1
from helpdesk_contracts.ticket import v1 as ticket_v1

Consumer = Literal["gateway", "auth", "mailer", "inbox", "janitor"]

DLX_NAME = "helpdesk.dlx"
UNROUTED_EXCHANGE_NAME = "helpdesk.unrouted"
UNROUTED_QUEUE_NAME = "helpdesk.unrouted"
DELAY_EXCHANGE_NAME = "helpdesk.delay"
REDELIVER_EXCHANGE_NAME = "helpdesk.redeliver"

DELIVERY_LIMIT = 10
"""Deliveries of one message (crashes, nacks) before the broker dead-letters it."""

DELAY_TIERS_SECONDS: tuple[int, ...] = (1, 5, 30, 120, 600)
"""Retry delays available; a retry picks the smallest tier not shorter than the wanted delay."""

UNROUTED_MAX_LENGTH = 10_000


def _frozen(arguments: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(arguments or {}))


@dataclass(frozen=True, slots=True)
class Exchange:
    """A durable exchange."""

    name: str
    type: Literal["topic", "direct", "fanout"]
    arguments: Mapping[str, Any] = field(default_factory=lambda: _frozen(None), hash=False)


@dataclass(frozen=True, slots=True)
class Queue:
    """A durable queue; `routing_key` is the key it is bound with on its main exchange."""

    name: str
    quorum: bool
    routing_key: str = ""
    arguments: Mapping[str, Any] = field(default_factory=lambda: _frozen(None), hash=False)


EVENTS = Exchange(EVENTS_EXCHANGE, "topic", _frozen({"alternate-exchange": UNROUTED_EXCHANGE_NAME}))
COMMANDS = Exchange(COMMANDS_EXCHANGE, "topic")
ADMIN = Exchange(ADMIN_EXCHANGE, "topic")
DLX = Exchange(DLX_NAME, "direct")
UNROUTED = Exchange(UNROUTED_EXCHANGE_NAME, "fanout")
DELAY = Exchange(DELAY_EXCHANGE_NAME, "topic")
REDELIVER = Exchange(REDELIVER_EXCHANGE_NAME, "topic")

EXCHANGES: dict[str, Exchange] = {
    EVENTS_EXCHANGE: EVENTS,
    COMMANDS_EXCHANGE: COMMANDS,
    ADMIN_EXCHANGE: ADMIN,
}

SUBSCRIPTIONS: dict[Consumer, tuple[type[Message], ...]] = {
    "gateway": (
        auth_v1.CodeSent,
        auth_v1.CodeRejected,
        auth_v1.UserAuthorized,
        auth_v1.UserRevoked,
        ticket_v1.TicketEmailed,
        ticket_v1.TicketEmailFailed,
        ticket_v1.TicketStatusChanged,
        ticket_v1.TicketCommentAdded,
        ticket_v1.TicketReplyFailed,
        ticket_v1.TicketReopenRequested,
        ticket_v1.TicketCancelRequested,
        admin_v1.ClearLocation,
        admin_v1.Broadcast,
        admin_v1.ReloadCategories,
        admin_v1.BuildReport,
    ),
    "auth": (
        auth_v1.RequestCode,
        auth_v1.VerifyCode,
        mail_v1.MailFailed,
        admin_v1.DeleteUser,
        admin_v1.RevokeUser,
        admin_v1.LookupUser,
    ),
    "mailer": (
        ticket_v1.TicketSubmitted,
        mail_v1.SendMail,
        ticket_v1.SendTicketReply,
    ),
    "inbox": (ticket_v1.TicketEmailed,),
    "janitor": (
        ticket_v1.TicketSubmitted,
        ticket_v1.TicketEmailed,
        ticket_v1.TicketStatusChanged,
        ticket_v1.TicketRated,
        admin_v1.RunJanitor,
    ),
}
"""Which service consumes what. Third parties bind their own queues to `helpdesk.events`."""


def exchange_for(message: type[Message]) -> Exchange:
    return EXCHANGES[message.exchange]


def queue_name(consumer: str, message: type[Message]) -> str:
    return f"{consumer}.{message.routing_key}"


def dlq_name(queue: str) -> str:
    return f"{queue}.dlq"


def delay_queue_name(tier_seconds: int) -> str:
    return f"{DELAY_EXCHANGE_NAME}.{tier_seconds}s"


def delay_routing_key(queue: str, tier_seconds: int) -> str:
    return f"{tier_seconds}s.{queue}"


def pick_delay_tier(wanted_seconds: float) -> int:
    """The smallest tier not shorter than the wanted delay (the longest tier caps it)."""
    for tier in DELAY_TIERS_SECONDS:
        if tier >= wanted_seconds:
            return tier
    return DELAY_TIERS_SECONDS[-1]


def work_queue(consumer: str, message: type[Message]) -> Queue:
    """The durable quorum work queue `<consumer>.<routing_key>`, bound by the message's key."""
    name = queue_name(consumer, message)
    return Queue(
        name,
        quorum=True,
        routing_key=message.routing_key,
        arguments=_frozen(
            {
                "x-delivery-limit": DELIVERY_LIMIT,
                "x-dead-letter-exchange": DLX_NAME,
                "x-dead-letter-routing-key": name,
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            }
        ),
    )


def dead_letter_queue(queue: str) -> Queue:
    return Queue(dlq_name(queue), quorum=True, routing_key=queue)


def delay_queue(tier_seconds: int) -> Queue:
    return Queue(
        delay_queue_name(tier_seconds),
        quorum=False,
        routing_key=f"{tier_seconds}s.#",
        arguments=_frozen(
            {
                "x-message-ttl": tier_seconds * 1000,
                "x-dead-letter-exchange": REDELIVER_EXCHANGE_NAME,
            }
        ),
    )


def unrouted_queue() -> Queue:
    return Queue(
        UNROUTED_QUEUE_NAME,
        quorum=False,
        arguments=_frozen({"x-max-length": UNROUTED_MAX_LENGTH, "x-overflow": "drop-head"}),
    )


@dataclass(frozen=True, slots=True)
class Binding:
    queue: Queue
    exchange: Exchange
    routing_key: str


def all_work_queues() -> list[tuple[Queue, type[Message]]]:
    return [
        (work_queue(consumer, message), message)
        for consumer, messages in SUBSCRIPTIONS.items()
        for message in messages
    ]


def all_bindings() -> list[Binding]:
    """Every queue and binding of the system, in declaration order."""
    bindings = [Binding(unrouted_queue(), UNROUTED, "")]
    bindings += [Binding(delay_queue(t), DELAY, f"{t}s.#") for t in DELAY_TIERS_SECONDS]
    for queue, message in all_work_queues():
        bindings.append(Binding(queue, exchange_for(message), message.routing_key))
        bindings.append(Binding(queue, REDELIVER, f"*.{queue.name}"))
        bindings.append(Binding(dead_letter_queue(queue.name), DLX, queue.name))
    return bindings


ALL_EXCHANGES: tuple[Exchange, ...] = (
    UNROUTED,
    EVENTS,
    COMMANDS,
    ADMIN,
    DLX,
    DELAY,
    REDELIVER,
)
