"""The janitor's handlers: lifecycle events feed its read model; RunJanitor runs it now."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from faststream.rabbit import RabbitRouter
from faststream.rabbit.annotations import RabbitMessage
from helpdesk_contracts import topology
from helpdesk_contracts.admin.v1 import RunJanitor
from helpdesk_contracts.base import Message
from helpdesk_contracts.ticket.v1 import (
    TicketEmailed,
    TicketRated,
    TicketStatusChanged,
    TicketSubmitted,
)
from helpdesk_runtime.broker import Publisher, subscriber
from helpdesk_runtime.retry import Retry
from pymongo.errors import PyMongoError

from helpdesk_janitor.adapters.tickets import TicketStore
from helpdesk_janitor.errors import JanitorError
from helpdesk_janitor.report import command_failed
from helpdesk_janitor.runner import Runner

SERVICE: topology.Consumer = "janitor"
TRANSIENT: tuple[type[Exception], ...] = (PyMongoError, JanitorError)

logger = logging.getLogger("helpdesk.janitor.consumers")


def build_router(
    tickets: TicketStore, runner: Runner, publisher: Publisher, retry: Retry
) -> RabbitRouter:
    router = RabbitRouter()

    async def record(
        message: RabbitMessage, kind: type[Message], write: Callable[[], Awaitable[None]]
    ) -> None:
        await retry.run(message, topology.queue_name(SERVICE, kind), write)

    @subscriber(router, SERVICE, TicketSubmitted)
    async def ticket_submitted(event: TicketSubmitted, message: RabbitMessage) -> None:
        """TicketSubmitted -> the ticket and its photos are known."""
        await record(message, TicketSubmitted, lambda: tickets.record_submitted(event))

    @subscriber(router, SERVICE, TicketEmailed)
    async def ticket_emailed(event: TicketEmailed, message: RabbitMessage) -> None:
        """TicketEmailed -> its photos are no longer needed for the email."""
        await record(message, TicketEmailed, lambda: tickets.record_emailed(event))

    @subscriber(router, SERVICE, TicketStatusChanged)
    async def ticket_status_changed(event: TicketStatusChanged, message: RabbitMessage) -> None:
        """TicketStatusChanged -> the status the retention rules look at."""
        await record(message, TicketStatusChanged, lambda: tickets.record_status(event))

    @subscriber(router, SERVICE, TicketRated)
    async def ticket_rated(event: TicketRated, message: RabbitMessage) -> None:
        """TicketRated -> the ticket counts as finished."""
        await record(message, TicketRated, lambda: tickets.record_rated(event))

    @subscriber(router, SERVICE, RunJanitor)
    async def run_janitor(command: RunJanitor, message: RabbitMessage) -> None:
        """RunJanitor -> JanitorRunCompleted (+ AttachmentsPurged) and AdminCommandCompleted."""
        queue = topology.queue_name(SERVICE, RunJanitor)
        try:
            await retry.run(message, queue, lambda: runner.run_command(command))
        except Exception as exc:  # retries used up, or a bug: the operator gets an answer
            await answer_failed(command, exc)
            raise

    async def answer_failed(command: RunJanitor, exc: Exception) -> None:
        logger.error("janitor run failed for good", exc_info=exc)
        await publisher.publish(command_failed(command, type(exc).__name__))

    return router
