"""What the inbox consumes: TicketEmailed, to learn the tickets replies may be about."""

from __future__ import annotations

import logging

from faststream.rabbit import RabbitRouter
from faststream.rabbit.annotations import RabbitMessage
from helpdesk_contracts import topology
from helpdesk_contracts.base import utc_now
from helpdesk_contracts.ticket.v1 import TicketEmailed
from helpdesk_runtime.broker import subscriber
from helpdesk_runtime.logs import log_context
from helpdesk_runtime.retry import Retry
from pymongo.errors import ConnectionFailure

from helpdesk_inbox.adapters.links import LinkStore

SERVICE: topology.Consumer = "inbox"
TRANSIENT: tuple[type[Exception], ...] = (ConnectionFailure,)
"""MongoDB unreachable. Anything else (the reference taken by another ticket, say) is
dead-lettered at once."""
QUEUE = topology.queue_name(SERVICE, TicketEmailed)
logger = logging.getLogger("helpdesk.inbox.consumers")


def build_router(links: LinkStore, retry: Retry) -> RabbitRouter:
    router = RabbitRouter()

    @subscriber(router, SERVICE, TicketEmailed)
    async def learn_ticket_email(event: TicketEmailed, message: RabbitMessage) -> None:
        """TicketEmailed -> remember the reference and Message-ID replies will carry."""
        with log_context(reference=event.reference, ticket_id=event.ticket_id):

            async def learn() -> bool:
                await links.learn_email(
                    ticket_id=event.ticket_id,
                    reference=event.reference,
                    email_message_id=event.email_message_id,
                    now=utc_now(),
                )
                return True

            if await retry.run(message, QUEUE, learn):
                logger.info("ticket email learned")

    return router
