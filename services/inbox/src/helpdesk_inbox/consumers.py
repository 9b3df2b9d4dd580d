"""What the inbox consumes: TicketEmailed, to learn the tickets replies may be about."""

from __future__ import annotations

import logging

from faststream.rabbit import RabbitRouter
from faststream.rabbit.annotations import RabbitMessage
from helpdesk_contracts import topology
from helpdesk_contracts.base import utc_now
from helpdesk_contracts.ticket.v1 import TicketEmailed
from helpdesk_runtime.broker import Publisher, attempt_of, subscriber
from helpdesk_runtime.logs import log_context
from pymongo.errors import ConnectionFailure

from helpdesk_inbox.adapters.links import LinkStore

SERVICE: topology.Consumer = "inbox"
MAX_RETRIES = 8
logger = logging.getLogger("helpdesk.inbox.consumers")


def retry_delay(attempt: int) -> float:
    """Seconds before retrying a delivery that failed on a transient error."""
    return float(min(5 * 2**attempt, 600))


def build_router(links: LinkStore, publisher: Publisher) -> RabbitRouter:
    router = RabbitRouter()

    @subscriber(router, SERVICE, TicketEmailed)
    async def learn_ticket_email(event: TicketEmailed, message: RabbitMessage) -> None:
        """TicketEmailed -> remember the reference and Message-ID replies will carry."""
        with log_context(reference=event.reference, ticket_id=event.ticket_id):
            try:
                await links.learn_email(
                    ticket_id=event.ticket_id,
                    reference=event.reference,
                    email_message_id=event.email_message_id,
                    now=utc_now(),
                )
            except ConnectionFailure as exc:
                # MongoDB unreachable: retry later. Anything else (the reference taken by
                # another ticket, say) raises, and the broker dead-letters the message.
                attempt = attempt_of(message)
                if attempt >= MAX_RETRIES:
                    raise
                delay = retry_delay(attempt)
                logger.warning("MongoDB failed; retrying in %ss: %s", delay, type(exc).__name__)
                await publisher.retry_later(
                    message, queue=topology.queue_name(SERVICE, TicketEmailed), delay_seconds=delay
                )
                return
            logger.info("ticket email learned")

    return router
