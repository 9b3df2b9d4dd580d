"""The broker edge: body -> contract -> use case -> ack, delayed retry, or dead-letter.

Bodies reach the handlers undecoded (a router decoder), so this module parses them itself: a
malformed message is logged with a reason that names fields and error types but never values
(a SendMail may carry a sign-in code), then rejected, which dead-letters it. Consuming goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from faststream.message import StreamMessage
from faststream.rabbit import RabbitMessage, RabbitRouter
from faststream.rabbit.annotations import RabbitMessage as RabbitMessageParam
from helpdesk_contracts import topology
from helpdesk_contracts.base import Message
from helpdesk_contracts.mail.v1 import SendMail
from helpdesk_contracts.runtime.broker import Publisher, attempt_of, subscriber
from helpdesk_contracts.runtime.logs import log_context
from helpdesk_contracts.ticket.v1 import SendTicketReply, TicketSubmitted
from pydantic import ValidationError

from helpdesk_mailer.delivery import Deliveries, Outcome, RetryIn
from helpdesk_mailer.errors import MalformedMessageError, StorageUnavailableError
from helpdesk_mailer.replies import deliver_reply

SERVICE: topology.Consumer = "mailer"
TICKET_QUEUE = topology.queue_name(SERVICE, TicketSubmitted)
MAIL_QUEUE = topology.queue_name(SERVICE, SendMail)
REPLY_QUEUE = topology.queue_name(SERVICE, SendTicketReply)

logger = logging.getLogger("helpdesk.mailer.consumers")

REQUEUE_PAUSE_SECONDS = 1.0
"""Pause before giving a message back when its delayed copy could not be queued."""


def raw_body(message: StreamMessage[Any]) -> bytes:
    """Router decoder: hand the body over as bytes; parsing is ours (see the module doc)."""
    return bytes(message.body)


def parse[M: Message](model: type[M], body: bytes) -> M:
    """The contract in `body`, or MalformedMessageError naming what is wrong (no values)."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '<body>'}: {error['type']}"
            for error in exc.errors(include_url=False, include_input=False, include_context=False)
        )
        raise MalformedMessageError(f"not a valid {model.__name__}: {problems}") from None


async def _parse_or_dead_letter[M: Message](
    model: type[M], body: bytes, message: RabbitMessage, queue: str
) -> M | None:
    try:
        return parse(model, body)
    except MalformedMessageError as exc:
        logger.error(
            "malformed message dead-lettered",
            extra={"queue": queue, "reason": str(exc), "dead_letter": topology.dlq_name(queue)},
        )
        await message.reject(requeue=False)
        return None


async def _settle(
    work: Awaitable[Outcome], message: RabbitMessage, queue: str, publisher: Publisher
) -> None:
    """Run the use case; turn "retry later" (or an unreachable database) into a delayed copy."""
    try:
        outcome = await work
    except StorageUnavailableError as exc:
        delay = float(topology.pick_delay_tier(2.0 ** min(attempt_of(message), 10)))
        logger.warning("MongoDB unavailable; retrying later", extra={"reason": str(exc)})
        outcome = RetryIn(delay)
    if not isinstance(outcome, RetryIn):
        return
    try:
        await publisher.retry_later(message, queue=queue, delay_seconds=outcome.seconds)
    except Exception:
        # The broker refused the delayed copy: give the original back instead of losing it.
        # The pause and the queue's delivery limit keep this from becoming a hot loop.
        logger.exception("could not schedule a retry; requeueing the message")
        await asyncio.sleep(REQUEUE_PAUSE_SECONDS)
        await message.nack(requeue=True)


def build_router(deliveries: Deliveries, publisher: Publisher) -> RabbitRouter:
    router = RabbitRouter(decoder=raw_body)

    @subscriber(router, SERVICE, TicketSubmitted)
    async def on_ticket_submitted(body: bytes, message: RabbitMessageParam) -> None:
        """TicketSubmitted -> one email to the helpdesk -> TicketEmailed / TicketEmailFailed."""
        ticket = await _parse_or_dead_letter(TicketSubmitted, body, message, TICKET_QUEUE)
        if ticket is not None:
            with log_context(ticket_id=ticket.ticket_id, reference=ticket.reference):
                await _settle(deliveries.ticket(ticket), message, TICKET_QUEUE, publisher)

    @subscriber(router, SERVICE, SendMail)
    async def on_send_mail(body: bytes, message: RabbitMessageParam) -> None:
        """SendMail -> one templated email -> MailSent / MailFailed."""
        command = await _parse_or_dead_letter(SendMail, body, message, MAIL_QUEUE)
        if command is not None:
            with log_context(template=command.template.value):
                await _settle(deliveries.mail(command), message, MAIL_QUEUE, publisher)

    @subscriber(router, SERVICE, SendTicketReply)
    async def on_send_ticket_reply(body: bytes, message: RabbitMessageParam) -> None:
        """SendTicketReply -> one email in the ticket's thread -> its event / TicketReplyFailed."""
        command = await _parse_or_dead_letter(SendTicketReply, body, message, REPLY_QUEUE)
        if command is not None:
            with log_context(ticket_id=command.ticket_id, reference=command.reference):
                work = deliver_reply(deliveries, command)
                await _settle(work, message, REPLY_QUEUE, publisher)

    return router
