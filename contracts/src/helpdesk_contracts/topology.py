"""RabbitMQ topology, declared once for every service.

- `helpdesk.events`, `helpdesk.commands`, `helpdesk.admin`: durable topic exchanges, routing key =
  the message's `routing_key`. Events that no queue is bound to go to the alternate exchange
  `helpdesk.unrouted` (kept for operators), so publishing an event nobody consumes yet is not an
  error; a command nobody consumes is (mandatory publish raises).
- Work queues `<consumer>.<routing_key>`: durable quorum queues with `x-delivery-limit` and
  at-least-once dead-lettering into the consumer's `helpdesk.dlx.<consumer>`, which routes to
  `<queue>.dlq`.
- Delayed retry without plugins: a message to retry is published to the consumer's own
  `helpdesk.delay.<consumer>` with routing key `<tier>.<queue>`; the tier queue
  `helpdesk.delay.<consumer>.<tier>` holds it for the tier's TTL and then dead-letters it to
  `helpdesk.redeliver.<consumer>`, where `<queue>` is bound with `*.<queue>`.

The dead-letter, delay and redeliver exchanges are per consumer so that a broker account can be
given exactly its own: a service that may retry its own messages cannot, through the same
exchanges, put a message into another consumer's queue (e.g. an admin command into auth's).

By default a service declares the whole topology at start-up, so a command published before its
consumer first started waits in its queue instead of being returned. With per-service accounts
(`HELPDESK_DECLARE_TOPOLOGY=own`) it declares only its own queues and exchanges; the rest comes
from the broker's definitions file (deploy/rabbitmq/definitions.json).

The topology is plain data (`Exchange`, `Queue`, `Binding`) so that this package needs pydantic
only; `helpdesk_runtime.broker` turns it into FastStream objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Literal

from helpdesk_contracts.admin import v1 as admin_v1
from helpdesk_contracts.auth import v1 as auth_v1
from helpdesk_contracts.base import ADMIN_EXCHANGE, COMMANDS_EXCHANGE, EVENTS_EXCHANGE, Message
from helpdesk_contracts.inbox import v1 as inbox_v1
from helpdesk_contracts.janitor import v1 as janitor_v1
from helpdesk_contracts.mail import v1 as mail_v1
from helpdesk_contracts.ticket import v1 as ticket_v1

Consumer = Literal["gateway", "auth", "mailer", "inbox", "janitor"]

CONSUMERS: tuple[Consumer, ...] = ("gateway", "auth", "mailer", "inbox", "janitor")

DLX_PREFIX = "helpdesk.dlx"
UNROUTED_EXCHANGE_NAME = "helpdesk.unrouted"
UNROUTED_QUEUE_NAME = "helpdesk.unrouted"
DELAY_PREFIX = "helpdesk.delay"
REDELIVER_PREFIX = "helpdesk.redeliver"

DELIVERY_LIMIT = 10
"""Deliveries of one message (crashes, nacks) before the broker dead-letters it."""

DELAY_TIERS_SECONDS: tuple[int, ...] = (1, 5, 30, 120, 600)
"""Retry delays available; a retry picks the smallest tier not shorter than the wanted delay."""

UNROUTED_MAX_LENGTH = 10_000


def _frozen(arguments: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(arguments or {}))


@dataclass(frozen=True, slots=True)
class Exchange:
    """A durable exchange.

    `declare=False` marks a reference that is only looked up (`passive`), never declared.
    """

    name: str
    type: Literal["topic", "direct", "fanout"]
    arguments: Mapping[str, Any] = field(default_factory=lambda: _frozen(None), hash=False)
    declare: bool = True


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
UNROUTED = Exchange(UNROUTED_EXCHANGE_NAME, "fanout")

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
        admin_v1.UnrevokeUser,
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

PUBLICATIONS: dict[Consumer, tuple[type[Message], ...]] = {
    "gateway": (
        auth_v1.RequestCode,
        auth_v1.VerifyCode,
        ticket_v1.TicketSubmitted,
        ticket_v1.TicketRated,
        ticket_v1.SendTicketReply,
        admin_v1.AdminCommandCompleted,
    ),
    "auth": (
        auth_v1.CodeSent,
        auth_v1.CodeRejected,
        auth_v1.UserAuthorized,
        auth_v1.UserRevoked,
        mail_v1.SendMail,
        admin_v1.AdminCommandCompleted,
    ),
    "mailer": (
        ticket_v1.TicketEmailed,
        ticket_v1.TicketEmailFailed,
        mail_v1.MailSent,
        mail_v1.MailFailed,
        ticket_v1.TicketCommentAdded,
        ticket_v1.TicketReplyFailed,
        ticket_v1.TicketReopenRequested,
        ticket_v1.TicketCancelRequested,
    ),
    "inbox": (
        ticket_v1.TicketStatusChanged,
        ticket_v1.TicketCommentAdded,
        inbox_v1.InboxMessageUnmatched,
    ),
    "janitor": (
        janitor_v1.AttachmentsPurged,
        janitor_v1.JanitorRunCompleted,
        admin_v1.AdminCommandCompleted,
    ),
}
"""What each service publishes: its broker account may publish these routing keys and no other."""


def consumer_of_queue(queue: str) -> Consumer:
    """The consumer a work queue (or its dead-letter queue) belongs to."""
    prefix = queue.partition(".")[0]
    for consumer in CONSUMERS:
        if consumer == prefix:
            return consumer
    raise ValueError(f"{queue} is not a helpdesk work queue")


def dlx_name(consumer: str) -> str:
    return f"{DLX_PREFIX}.{consumer}"


def delay_exchange_name(consumer: str) -> str:
    return f"{DELAY_PREFIX}.{consumer}"


def redeliver_exchange_name(consumer: str) -> str:
    return f"{REDELIVER_PREFIX}.{consumer}"


def dlx(consumer: str) -> Exchange:
    return Exchange(dlx_name(consumer), "direct")


def delay_exchange(consumer: str) -> Exchange:
    return Exchange(delay_exchange_name(consumer), "topic")


def redeliver_exchange(consumer: str) -> Exchange:
    return Exchange(redeliver_exchange_name(consumer), "topic")


def exchange_for(message: type[Message]) -> Exchange:
    return EXCHANGES[message.exchange]


def passive(exchange: Exchange) -> Exchange:
    """The same exchange, only looked up: declaring needs `configure`, a lookup needs nothing.

    Subscribers and publishers use these, so a service whose account may not configure the
    shared exchanges still starts once they exist (FastStream caches declarations by name and
    arguments, so in "declare all" mode they are the very objects declared before).
    """
    return replace(exchange, declare=False)


def exchange_ref(message: type[Message]) -> Exchange:
    """The message's exchange as subscribers and publishers refer to it (looked up only)."""
    return passive(EXCHANGES[message.exchange])


def queue_name(consumer: str, message: type[Message]) -> str:
    return f"{consumer}.{message.routing_key}"


def dlq_name(queue: str) -> str:
    return f"{queue}.dlq"


def delay_queue_name(consumer: str, tier_seconds: int) -> str:
    return f"{delay_exchange_name(consumer)}.{tier_seconds}s"


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
                "x-dead-letter-exchange": dlx_name(consumer),
                "x-dead-letter-routing-key": name,
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            }
        ),
    )


def dead_letter_queue(queue: str) -> Queue:
    return Queue(dlq_name(queue), quorum=True, routing_key=queue)


def delay_queue(consumer: str, tier_seconds: int) -> Queue:
    return Queue(
        delay_queue_name(consumer, tier_seconds),
        quorum=False,
        routing_key=f"{tier_seconds}s.#",
        arguments=_frozen(
            {
                "x-message-ttl": tier_seconds * 1000,
                "x-dead-letter-exchange": redeliver_exchange_name(consumer),
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


def own_exchanges(consumer: str) -> tuple[Exchange, ...]:
    """The exchanges only this consumer's account may use: dead letters, delay, redelivery."""
    return (dlx(consumer), delay_exchange(consumer), redeliver_exchange(consumer))


def own_bindings(consumer: Consumer) -> list[Binding]:
    """This consumer's queues and their bindings: work, dead-letter and delay tier queues."""
    bindings = [
        Binding(delay_queue(consumer, t), delay_exchange(consumer), f"{t}s.#")
        for t in DELAY_TIERS_SECONDS
    ]
    for message in SUBSCRIPTIONS[consumer]:
        queue = work_queue(consumer, message)
        bindings.append(Binding(queue, exchange_for(message), message.routing_key))
        bindings.append(Binding(queue, redeliver_exchange(consumer), f"*.{queue.name}"))
        bindings.append(Binding(dead_letter_queue(queue.name), dlx(consumer), queue.name))
    return bindings


def all_bindings() -> list[Binding]:
    """Every queue and binding of the system, in declaration order."""
    bindings = [Binding(unrouted_queue(), UNROUTED, "")]
    for consumer in CONSUMERS:
        bindings += own_bindings(consumer)
    return bindings


SHARED_EXCHANGES: tuple[Exchange, ...] = (UNROUTED, EVENTS, COMMANDS, ADMIN)
"""Declared before the per-consumer exchanges (`helpdesk.events` names the alternate first)."""

ALL_EXCHANGES: tuple[Exchange, ...] = SHARED_EXCHANGES + tuple(
    exchange for consumer in CONSUMERS for exchange in own_exchanges(consumer)
)
