"""The one retry rule of every consumer.

A handler that meets a transient failure (one of the exceptions its service declares: MongoDB
unreachable, a document that kept changing, ...) is tried again later through the topology's
delay tiers: retry n (0-based) waits `DELAY_TIERS_SECONDS[n]`, the longest tier from then on.
After `limit` retries (`HELPDESK_RETRY_LIMIT`, the same for every service) the error propagates,
the handler's message is rejected and the broker dead-letters it to `<queue>.dlq`, where an
operator can replay it. Any other exception dead-letters at once.

The delayed copy is confirmed before the original is acked. When the broker refuses the copy,
the original is given back (nacked with requeue after a short pause), never dropped and never
dead-lettered for the broker's own trouble; the work queue's delivery limit bounds that loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from faststream.rabbit import RabbitMessage
from helpdesk_contracts import topology

from helpdesk_runtime.broker import attempt_of
from helpdesk_runtime.settings import DEFAULT_RETRY_LIMIT

__all__ = ["DEFAULT_RETRY_LIMIT", "DelayedPublisher", "Retry", "retry_delay"]

REQUEUE_PAUSE_SECONDS = 1.0
"""Pause before giving a message back when its delayed copy could not be queued."""

logger = logging.getLogger("helpdesk.retry")


class DelayedPublisher(Protocol):
    """What the rule needs of `Publisher`: a confirmed, delayed copy of a delivery."""

    async def retry_later(
        self, message: RabbitMessage, *, queue: str, delay_seconds: float
    ) -> int: ...


def retry_delay(attempt: int) -> int:
    """Seconds before retry number `attempt` (0 for the first): the topology's tiers in order."""
    tiers = topology.DELAY_TIERS_SECONDS
    return tiers[min(max(attempt, 0), len(tiers) - 1)]


class Retry:
    """A service's retry rule: its transient exceptions, the shared limit, one behaviour."""

    def __init__(
        self,
        publisher: DelayedPublisher,
        transient: tuple[type[BaseException], ...],
        *,
        limit: int = DEFAULT_RETRY_LIMIT,
        requeue_pause_seconds: float = REQUEUE_PAUSE_SECONDS,
    ) -> None:
        if limit < 0:
            raise ValueError("the retry limit cannot be negative")
        self.publisher = publisher
        self.transient = transient
        self.limit = limit
        self.requeue_pause_seconds = requeue_pause_seconds

    async def run[T](
        self, message: RabbitMessage, queue: str, work: Callable[[], Awaitable[T]]
    ) -> T | None:
        """Do the work; on a transient failure schedule a retry and return None.

        Raises what `work` raised when it is not transient or the retries are used up, so the
        message is dead-lettered (the caller may answer the failure first and re-raise).
        """
        try:
            return await work()
        except self.transient as exc:
            attempt = attempt_of(message)
            if attempt >= self.limit:
                logger.error(
                    "transient failure; retries used up, dead-lettering",
                    extra={"queue": queue, "attempt": attempt, "error": type(exc).__name__},
                )
                raise
            delay = retry_delay(attempt)
            logger.warning(
                "transient failure; retrying later",
                extra={
                    "queue": queue,
                    "attempt": attempt,
                    "delay_seconds": delay,
                    "error": type(exc).__name__,
                },
            )
            await self.later(message, queue, delay)
            return None

    async def later(self, message: RabbitMessage, queue: str, delay_seconds: float) -> None:
        """Queue a delayed copy of this delivery (a use case asked for a delay of its own).

        If the broker refuses the copy, give the original back instead of losing it.
        """
        try:
            await self.publisher.retry_later(message, queue=queue, delay_seconds=delay_seconds)
        except Exception:
            logger.exception("could not schedule a retry; requeueing the message")
            await asyncio.sleep(self.requeue_pause_seconds)
            await message.nack(requeue=True)
