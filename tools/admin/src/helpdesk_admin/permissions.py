"""RabbitMQ permissions of each kind of user: one account per service, operators, integrators.

RabbitMQ grants `configure` (declare/delete), `write` (publish to an exchange, bind a queue) and
`read` (consume/get/purge a queue, bind from an exchange) by regular expressions over resource
names; the default exchange is `amq.default`. Topic permissions narrow, per topic exchange, the
routing keys a user may publish with (`write`) and bind with (`read`).

Each service's account gets exactly its own: it configures only its queues and its own
dead-letter, delay and redeliver exchanges; it publishes only the routing keys it owns
(`topology.PUBLICATIONS`) and binds only the keys it consumes (`topology.SUBSCRIPTIONS`); it
reads only its own queues. So no service can publish to `helpdesk.admin`, reach another
consumer's queue through a retry exchange, or bind any queue to a key it does not consume.
The shared exchanges and the unrouted queue are declared by the broker's definitions file
(`definitions()`, committed as deploy/rabbitmq/definitions.json), and the services start with
HELPDESK_DECLARE_TOPOLOGY=own. docs/operations.md shows the commands; tests apply them to a
real broker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from helpdesk_contracts import topology
from helpdesk_contracts.base import ADMIN_EXCHANGE, COMMANDS_EXCHANGE, EVENTS_EXCHANGE
from helpdesk_runtime.broker import rabbit_exchange, rabbit_queue

_CONSUMERS = "|".join(topology.CONSUMERS)  # gateway|auth|mailer|inbox|janitor

SERVICE_USER_PREFIX = "helpdesk-"
"""Service accounts are `helpdesk-<service>` unless told otherwise."""

NOTHING = "^$"


@dataclass(frozen=True, slots=True)
class TopicPermission:
    exchange: str
    write: str
    read: str


@dataclass(frozen=True, slots=True)
class Permission:
    configure: str
    write: str
    read: str
    topics: tuple[TopicPermission, ...] = field(default=())

    def rabbitmqctl(self, vhost: str, user: str) -> list[str]:
        lines = [
            f"rabbitmqctl set_permissions -p '{vhost}' '{user}' "
            f"'{self.configure}' '{self.write}' '{self.read}'"
        ]
        lines += [
            f"rabbitmqctl set_topic_permissions -p '{vhost}' '{user}' '{t.exchange}' "
            f"'{t.write}' '{t.read}'"
            for t in self.topics
        ]
        return lines


def _keys(keys: list[str]) -> str:
    return f"^({'|'.join(re.escape(k) for k in sorted(set(keys)))})$" if keys else NOTHING


def service(consumer: topology.Consumer) -> Permission:
    """The account of one service: its own queues and exchanges, its own routing keys."""
    own = rf"{consumer}\..*|helpdesk\.(dlx|delay|redeliver)\.{consumer}(\..*)?"
    publishes: set[str] = {m.exchange for m in topology.PUBLICATIONS[consumer]}
    binds: set[str] = {m.exchange for m in topology.SUBSCRIPTIONS[consumer]}

    def exchanges(names: set[str]) -> str:
        return "".join(f"|{re.escape(name)}" for name in sorted(names))

    topics = tuple(
        TopicPermission(
            exchange=name,
            write=_keys(
                [m.routing_key for m in topology.PUBLICATIONS[consumer] if m.exchange == name]
            ),
            read=_keys(
                [m.routing_key for m in topology.SUBSCRIPTIONS[consumer] if m.exchange == name]
            ),
        )
        for name in (EVENTS_EXCHANGE, COMMANDS_EXCHANGE, ADMIN_EXCHANGE)
    )
    return Permission(
        configure=f"^({own})$",
        write=f"^({own}{exchanges(publishes)})$",
        read=f"^({own}{exchanges(binds)})$",
        topics=topics,
    )


SERVICES: dict[topology.Consumer, Permission] = {c: service(c) for c in topology.CONSUMERS}

OPERATORS = Permission(
    # Only the CLI's own exclusive reply queues.
    configure=r"^helpdesk-admin\.reply\..*$",
    # Admin commands; dead letters back into work queues (through the default exchange).
    write=r"^(helpdesk\.admin|amq\.default|helpdesk-admin\.reply\..*)$",
    # Answers (bind to helpdesk.events), and the dead-letter queues (get, purge).
    read=rf"^(helpdesk\.events|helpdesk-admin\.reply\..*|(?:{_CONSUMERS})\..*\.dlq)$",
)


def integrator(prefix: str) -> Permission:
    """A third party: queues named `<prefix>...` of its own, bound to helpdesk.events."""
    own = prefix.replace(".", r"\.")
    return Permission(
        configure=rf"^{own}.*$",
        write=rf"^{own}.*$",
        read=rf"^(helpdesk\.events|{own}.*)$",
    )


def _exchange(described: topology.Exchange, vhost: str) -> dict[str, Any]:
    # As the services declare it (helpdesk_runtime.broker), so the broker's definitions agree.
    exchange = rabbit_exchange(described)
    return {
        "name": exchange.name,
        "vhost": vhost,
        "type": exchange.type.value,
        "durable": exchange.durable,
        "auto_delete": exchange.auto_delete,
        "internal": False,
        "arguments": dict(exchange.arguments or {}),
    }


def _queue(described: topology.Queue, vhost: str) -> dict[str, Any]:
    queue = rabbit_queue(described)
    arguments = dict(queue.arguments or {})
    return {
        "name": queue.name,
        "vhost": vhost,
        "durable": queue.durable,
        "auto_delete": queue.auto_delete,
        "arguments": arguments,
    }


def definitions(
    *,
    vhost: str = "/",
    user_prefix: str = SERVICE_USER_PREFIX,
    operators_user: str = "helpdesk-ops",
    broker_admin_user: str = "helpdesk-broker-admin",
) -> dict[str, Any]:
    """A RabbitMQ definitions document: the whole topology and every account's permissions.

    Users carry the placeholder `password_hash` `@@<user>@@`; the broker's entrypoint
    (deploy/rabbitmq/render-definitions.sh) replaces it with the hash of that user's secret.
    The broker administrator (management UI, `rabbitmqctl`-level work) is no service's account.
    """
    rights = {f"{user_prefix}{c}": SERVICES[c] for c in topology.CONSUMERS}
    rights[operators_user] = OPERATORS
    rights[broker_admin_user] = Permission(configure=".*", write=".*", read=".*")
    bindings = topology.all_bindings()
    queues: dict[str, dict[str, Any]] = {}
    for binding in bindings:
        queues.setdefault(binding.queue.name, _queue(binding.queue, vhost))
    return {
        "users": [_user(user, administrator=user == broker_admin_user) for user in rights],
        "vhosts": [{"name": vhost}],
        "permissions": [_permission(user, right, vhost) for user, right in rights.items()],
        "topic_permissions": [
            _topic_permission(user, topic, vhost)
            for user, right in rights.items()
            for topic in right.topics
        ],
        "exchanges": [_exchange(x, vhost) for x in topology.ALL_EXCHANGES],
        "queues": list(queues.values()),
        "bindings": [_binding(b, vhost) for b in bindings],
    }


def _user(user: str, *, administrator: bool) -> dict[str, Any]:
    return {
        "name": user,
        "password_hash": f"@@{user}@@",
        "hashing_algorithm": "rabbit_password_hashing_sha256",
        "tags": ["administrator"] if administrator else [],
    }


def _permission(user: str, right: Permission, vhost: str) -> dict[str, Any]:
    return {
        "user": user,
        "vhost": vhost,
        "configure": right.configure,
        "write": right.write,
        "read": right.read,
    }


def _topic_permission(user: str, topic: TopicPermission, vhost: str) -> dict[str, Any]:
    return {
        "user": user,
        "vhost": vhost,
        "exchange": topic.exchange,
        "write": topic.write,
        "read": topic.read,
    }


def _binding(binding: topology.Binding, vhost: str) -> dict[str, Any]:
    return {
        "source": binding.exchange.name,
        "vhost": vhost,
        "destination": binding.queue.name,
        "destination_type": "queue",
        "routing_key": binding.routing_key,
        "arguments": {},
    }
