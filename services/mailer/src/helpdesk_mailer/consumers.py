"""The broker edge: body -> contract -> use case -> ack, delayed retry, or dead-letter.

Retries follow the runtime's one rule (`helpdesk_runtime.retry`): an unreachable database
(`TRANSIENT`) is retried through the delay tiers up to the shared limit; an SMTP failure is the
use case's own business (`RetryIn`, with its deadline and TicketEmailFailed), and its delayed
copy is queued, or the message given back, the same way.

Bodies reach the handlers undecoded (a router decoder), so this module parses them itself: a
malformed message is logged with a reason that names fields and error types but never values
(a SendMail may carry a sign-in code), then rejected, which dead-letters it. Consuming goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from faststream.message import StreamMessage
from faststream.rabbit import RabbitMessage, RabbitRouter
from faststream.rabbit.annotations import RabbitMessage as RabbitMessageParam
from helpdesk_contracts import topology
from helpdesk_contracts.base import Message
from helpdesk_contracts.mail.v1 import SendMail
from helpdesk_contracts.ticket.v1 import SendTicketReply, TicketSubmitted
from helpdesk_runtime.broker import subscriber
from helpdesk_runtime.logs import log_context
from helpdesk_runtime.retry import Retry
from pydantic import ValidationError

from helpdesk_mailer.delivery import Deliveries, Outcome, RetryIn
from helpdesk_mailer.errors import MalformedMessageError, StorageUnavailableError
from helpdesk_mailer.replies import deliver_reply

SERVICE: topology.Consumer = "mailer"
TICKET_QUEUE = topology.queue_name(SERVICE, TicketSubmitted)
MAIL_QUEUE = topology.queue_name(SERVICE, SendMail)
REPLY_QUEUE = topology.queue_name(SERVICE, SendTicketReply)
TRANSIENT: tuple[type[Exception], ...] = (StorageUnavailableError,)

logger = logging.getLogger("helpdesk.mailer.consumers")


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
    work: Callable[[], Awaitable[Outcome]], message: RabbitMessage, queue: str, retry: Retry
) -> None:
    """Run the use case; turn "retry later" (or an unreachable database) into a delayed copy."""
    outcome = await retry.run(message, queue, work)
    if isinstance(outcome, RetryIn):
        await retry.later(message, queue, outcome.seconds)


def build_router(deliveries: Deliveries, retry: Retry) -> RabbitRouter:
    router = RabbitRouter(decoder=raw_body)

    @subscriber(router, SERVICE, TicketSubmitted)
    async def on_ticket_submitted(body: bytes, message: RabbitMessageParam) -> None:
        """TicketSubmitted -> one email to the helpdesk -> TicketEmailed / TicketEmailFailed."""
        ticket = await _parse_or_dead_letter(TicketSubmitted, body, message, TICKET_QUEUE)
        if ticket is not None:
            with log_context(ticket_id=ticket.ticket_id, reference=ticket.reference):
                await _settle(lambda: deliveries.ticket(ticket), message, TICKET_QUEUE, retry)

    @subscriber(router, SERVICE, SendMail)
    async def on_send_mail(body: bytes, message: RabbitMessageParam) -> None:
        """SendMail -> one templated email -> MailSent / MailFailed."""
        command = await _parse_or_dead_letter(SendMail, body, message, MAIL_QUEUE)
        if command is not None:
            with log_context(template=command.template.value):
                await _settle(lambda: deliveries.mail(command), message, MAIL_QUEUE, retry)

    @subscriber(router, SERVICE, SendTicketReply)
    async def on_send_ticket_reply(body: bytes, message: RabbitMessageParam) -> None:
        """SendTicketReply -> one email in the ticket's thread -> its event / TicketReplyFailed."""
        command = await _parse_or_dead_letter(SendTicketReply, body, message, REPLY_QUEUE)
        if command is not None:
            with log_context(ticket_id=command.ticket_id, reference=command.reference):
                await _settle(
                    lambda: deliver_reply(deliveries, command), message, REPLY_QUEUE, retry
                )

    return router
