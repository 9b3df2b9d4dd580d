"""RabbitMQ permissions of the three kinds of user: the services, operators, integrators.

RabbitMQ grants `configure` (declare/delete), `write` (publish to an exchange, bind a queue) and
`read` (consume/get/purge a queue, bind from an exchange) by regular expressions over resource
names; the default exchange is `amq.default`. The point of the split: only operators can
publish to `helpdesk.admin`, and integrators can only read events into queues of their own.
docs/operations.md shows the commands; a test applies them to a real broker.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpdesk_contracts import topology

_CONSUMERS = "|".join(topology.SUBSCRIPTIONS)  # gateway|auth|mailer|inbox|janitor
_WORK_QUEUES = rf"(?:{_CONSUMERS})\..*"


@dataclass(frozen=True, slots=True)
class Permission:
    configure: str
    write: str
    read: str

    def rabbitmqctl(self, vhost: str, user: str) -> str:
        return (
            f"rabbitmqctl set_permissions -p '{vhost}' '{user}' "
            f"'{self.configure}' '{self.write}' '{self.read}'"
        )


SERVICES = Permission(
    # Every helpdesk exchange and queue: each service declares the whole topology at start-up.
    configure=rf"^(helpdesk\..*|{_WORK_QUEUES})$",
    # Publish events, commands and delayed retries; bind queues; name the DLX and alternate
    # exchange in declarations. Not helpdesk.admin: a service cannot forge an admin command.
    write=rf"^(helpdesk\.(events|commands|dlx|delay|redeliver|unrouted)(\..*)?|{_WORK_QUEUES})$",
    read=rf"^(helpdesk\..*|{_WORK_QUEUES})$",
)

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
