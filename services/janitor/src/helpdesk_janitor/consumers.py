"""The janitor's handlers: lifecycle events feed its read model; RunJanitor runs it now."""

from __future__ import annotations

import logging
from collections.abc import Awaitable

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
from helpdesk_runtime.broker import Publisher, attempt_of, subscriber
from pymongo.errors import PyMongoError

from helpdesk_janitor.adapters.tickets import TicketStore
from helpdesk_janitor.errors import JanitorError
from helpdesk_janitor.report import command_failed
from helpdesk_janitor.runner import Runner

SERVICE: topology.Consumer = "janitor"
RETRY_DELAYS_SECONDS = (5.0, 30.0, 120.0)
"""Delayed retries after a database failure; after the last one the message is given up."""

logger = logging.getLogger("helpdesk.janitor.consumers")


def build_router(tickets: TicketStore, runner: Runner, publisher: Publisher) -> RabbitRouter:
    router = RabbitRouter()

    async def retried(message: RabbitMessage, kind: type[Message]) -> bool:
        """Re-queue a delivery that hit a database failure; False once retries are used up."""
        attempt = attempt_of(message)
        if attempt >= len(RETRY_DELAYS_SECONDS):
            return False
        await publisher.retry_later(
            message,
            queue=topology.queue_name(SERVICE, kind),
            delay_seconds=RETRY_DELAYS_SECONDS[attempt],
        )
        return True

    async def record(message: RabbitMessage, kind: type[Message], write: Awaitable[None]) -> None:
        try:
            await write
        except PyMongoError:
            if not await retried(message, kind):
                raise  # dead-lettered, where an operator can replay it

    @subscriber(router, SERVICE, TicketSubmitted)
    async def ticket_submitted(event: TicketSubmitted, message: RabbitMessage) -> None:
        """TicketSubmitted -> the ticket and its photos are known."""
        await record(message, TicketSubmitted, tickets.record_submitted(event))

    @subscriber(router, SERVICE, TicketEmailed)
    async def ticket_emailed(event: TicketEmailed, message: RabbitMessage) -> None:
        """TicketEmailed -> its photos are no longer needed for the email."""
        await record(message, TicketEmailed, tickets.record_emailed(event))

    @subscriber(router, SERVICE, TicketStatusChanged)
    async def ticket_status_changed(event: TicketStatusChanged, message: RabbitMessage) -> None:
        """TicketStatusChanged -> the status the retention rules look at."""
        await record(message, TicketStatusChanged, tickets.record_status(event))

    @subscriber(router, SERVICE, TicketRated)
    async def ticket_rated(event: TicketRated, message: RabbitMessage) -> None:
        """TicketRated -> the ticket counts as finished."""
        await record(message, TicketRated, tickets.record_rated(event))

    @subscriber(router, SERVICE, RunJanitor)
    async def run_janitor(command: RunJanitor, message: RabbitMessage) -> None:
        """RunJanitor -> JanitorRunCompleted (+ AttachmentsPurged) and AdminCommandCompleted."""
        try:
            await runner.run_command(command)
        except (PyMongoError, JanitorError) as exc:
            if await retried(message, RunJanitor):
                return
            await answer_failed(command, exc)
            raise
        except Exception as exc:  # a bug: retrying will not help, but the operator gets an answer
            await answer_failed(command, exc)
            raise

    async def answer_failed(command: RunJanitor, exc: Exception) -> None:
        logger.error("janitor run failed for good", exc_info=exc)
        await publisher.publish(command_failed(command, type(exc).__name__))

    return router
