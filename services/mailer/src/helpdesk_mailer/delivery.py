"""The use cases: deliver a ticket email, deliver a SendMail; record the outcome with its event.

Order of one attempt: read photos -> claim (`sending` recorded) -> compose -> SMTP -> record
`sent` + event (one write) -> the relay publishes. A transient failure records `retrying` and
asks the caller to retry later; the first one of a ticket also queues
`TicketEmailFailed(permanent=False, next_attempt_at=...)` so the employee hears it is delayed
(once per ticket, not on every retry). A permanent failure, or running out of retry time,
records `failed` with `TicketEmailFailed(permanent=True)` / `MailFailed`.

Nothing here logs a SendMail's variables or rendered text: they may hold a sign-in code.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from helpdesk_contracts.base import Message, utc_now
from helpdesk_contracts.mail.v1 import MailFailed, MailSent, SendMail
from helpdesk_contracts.ticket.v1 import (
    Attachment,
    TicketEmailed,
    TicketEmailFailed,
    TicketSubmitted,
)
from helpdesk_runtime.outbox import outbox_entry

from helpdesk_mailer.adapters.smtp import Receipt
from helpdesk_mailer.adapters.store import Busy, Claim, Claimed, Finished
from helpdesk_mailer.compose import (
    ComposeConfig,
    LoadedAttachment,
    OutgoingEmail,
    compose_mail,
    compose_ticket,
)
from helpdesk_mailer.errors import ComposeError, DeliveryError, PermanentDeliveryError
from helpdesk_mailer.retry import RetryPolicy
from helpdesk_mailer.templates import Templates

logger = logging.getLogger("helpdesk.mailer.delivery")

Document = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Done:
    """Nothing left to do for this broker message: ack it."""


@dataclass(frozen=True, slots=True)
class RetryIn:
    """Queue this broker message again after `seconds` (a broker delay tier), then ack it."""

    seconds: float


Outcome = Done | RetryIn


class Store(Protocol):
    async def claim(self, key: str, fields: Document, now: datetime) -> Claim: ...

    async def mark_sent(
        self, key: str, *, email_message_id: str, reply: str, now: datetime, outbox: list[Document]
    ) -> bool: ...

    async def mark_retrying(
        self,
        key: str,
        *,
        error: DeliveryError | None,
        reason: str,
        next_attempt_at: datetime,
        now: datetime,
        outbox: list[Document],
    ) -> bool: ...

    async def mark_failed(
        self,
        key: str,
        *,
        error: DeliveryError | None,
        reason: str,
        now: datetime,
        outbox: list[Document],
    ) -> bool: ...


class Reader(Protocol):
    async def load(self, attachments: list[Attachment]) -> list[LoadedAttachment]: ...


class Transport(Protocol):
    async def send(self, sender: str, recipients: tuple[str, ...], data: bytes) -> Receipt: ...


@dataclass
class Deliveries:
    config: ComposeConfig
    templates: Templates
    store: Store
    reader: Reader
    transport: Transport
    envelope_from: str
    ticket_retry: RetryPolicy
    mail_retry: RetryPolicy
    notify: Callable[[], None]
    clock: Callable[[], datetime] = utc_now
    rng: random.Random = field(default_factory=random.Random)

    # --- tickets ---------------------------------------------------------------------------

    async def ticket(self, ticket: TicketSubmitted) -> Outcome:
        key = f"ticket:{ticket.ticket_id}"
        fields = {
            "kind": "ticket",
            "ticket_id": ticket.ticket_id,
            "reference": ticket.reference,
            "source_message_id": str(ticket.message_id),
        }
        # Photos first: if GridFS is unreachable, nothing is claimed and the retry finds no lease.
        files = await self.reader.load(ticket.attachments)
        claim = await self.store.claim(key, fields, self.clock())
        if not isinstance(claim, Claimed):
            return self._not_claimed(claim)
        try:
            outgoing = compose_ticket(ticket, files, self.config, self.templates)
        except ComposeError as exc:
            await self._ticket_failed(ticket, key, None, f"cannot compose the email: {exc}")
            return Done()
        try:
            receipt = await self.transport.send(
                self.envelope_from, outgoing.recipients, outgoing.as_bytes()
            )
        except PermanentDeliveryError as exc:
            await self._ticket_failed(ticket, key, exc, exc.describe())
            return Done()
        except DeliveryError as exc:
            return await self._ticket_transient(ticket, key, claim, exc)
        await self._ticket_sent(ticket, key, outgoing, receipt)
        return Done()

    async def _ticket_sent(
        self, ticket: TicketSubmitted, key: str, outgoing: OutgoingEmail, receipt: Receipt
    ) -> None:
        now = self.clock()
        event = TicketEmailed(
            correlation_id=ticket.message_id,
            ticket_id=ticket.ticket_id,
            reference=ticket.reference,
            email_message_id=outgoing.message_id,
            sent_at=now,
            attachments_sent=outgoing.attachments_sent,
            attachments_omitted=outgoing.attachments_omitted,
        )
        recorded = await self.store.mark_sent(
            key,
            email_message_id=outgoing.message_id,
            reply=receipt.reply,
            now=now,
            outbox=[outbox_entry(event)],
        )
        self._notify_if(recorded)
        logger.info(
            "ticket emailed",
            extra={
                "email_message_id": outgoing.message_id,
                "attachments_sent": outgoing.attachments_sent,
                "attachments_omitted": outgoing.attachments_omitted,
                "recorded": recorded,
            },
        )

    async def _ticket_transient(
        self, ticket: TicketSubmitted, key: str, claim: Claimed, exc: DeliveryError
    ) -> Outcome:
        now = self.clock()
        delay = self.ticket_retry.next_delay(
            attempts=claim.attempts, first_attempt_at=claim.first_attempt_at, now=now, rng=self.rng
        )
        if delay is None:
            reason = f"gave up after {claim.attempts} attempts: {exc.describe()}"
            await self._ticket_failed(ticket, key, exc, reason)
            return Done()
        next_attempt_at = now + timedelta(seconds=delay)
        outbox: list[Document] = []
        if not claim.delay_notified:
            outbox.append(
                outbox_entry(
                    TicketEmailFailed(
                        correlation_id=ticket.message_id,
                        ticket_id=ticket.ticket_id,
                        reference=ticket.reference,
                        permanent=False,
                        smtp_code=exc.smtp_code,
                        smtp_reply=exc.smtp_reply,
                        reason=exc.reason[:2000],
                        next_attempt_at=next_attempt_at,
                    )
                )
            )
        recorded = await self.store.mark_retrying(
            key,
            error=exc,
            reason=exc.describe(),
            next_attempt_at=next_attempt_at,
            now=now,
            outbox=outbox,
        )
        self._notify_if(recorded and bool(outbox))
        self._log_transient("ticket email delayed", exc, claim.attempts, delay)
        return RetryIn(delay)

    async def _ticket_failed(
        self, ticket: TicketSubmitted, key: str, exc: DeliveryError | None, reason: str
    ) -> None:
        event = TicketEmailFailed(
            correlation_id=ticket.message_id,
            ticket_id=ticket.ticket_id,
            reference=ticket.reference,
            permanent=True,
            smtp_code=exc.smtp_code if exc else None,
            smtp_reply=exc.smtp_reply if exc else None,
            reason=reason[:2000],
        )
        await self._record_failure(key, exc, reason, event)

    # --- SendMail ----------------------------------------------------------------------------

    async def mail(self, command: SendMail) -> Outcome:
        key = f"mail:{command.message_id}"
        fields = {"kind": "mail", "template": command.template.value, "locale": command.locale}
        claim = await self.store.claim(key, fields, self.clock())
        if not isinstance(claim, Claimed):
            return self._not_claimed(claim)
        try:
            outgoing = compose_mail(command, self.config, self.templates)
        except ComposeError as exc:
            await self._mail_failed(command, key, None, f"cannot compose the email: {exc}")
            return Done()
        try:
            receipt = await self.transport.send(
                self.envelope_from, outgoing.recipients, outgoing.as_bytes()
            )
        except PermanentDeliveryError as exc:
            await self._mail_failed(command, key, exc, exc.describe())
            return Done()
        except DeliveryError as exc:
            return await self._mail_transient(command, key, claim, exc)
        now = self.clock()
        event = MailSent(
            correlation_id=command.message_id,
            template=command.template,
            email_message_id=outgoing.message_id,
            sent_at=now,
        )
        recorded = await self.store.mark_sent(
            key,
            email_message_id=outgoing.message_id,
            reply=receipt.reply,
            now=now,
            outbox=[outbox_entry(event)],
        )
        self._notify_if(recorded)
        logger.info(
            "mail sent",
            extra={"template": command.template.value, "email_message_id": outgoing.message_id},
        )
        return Done()

    async def _mail_transient(
        self, command: SendMail, key: str, claim: Claimed, exc: DeliveryError
    ) -> Outcome:
        now = self.clock()
        delay = self.mail_retry.next_delay(
            attempts=claim.attempts, first_attempt_at=claim.first_attempt_at, now=now, rng=self.rng
        )
        if delay is None:
            reason = f"gave up after {claim.attempts} attempts: {exc.describe()}"
            await self._mail_failed(command, key, exc, reason)
            return Done()
        await self.store.mark_retrying(
            key,
            error=exc,
            reason=exc.describe(),
            next_attempt_at=now + timedelta(seconds=delay),
            now=now,
            outbox=[],
        )
        self._log_transient("mail delayed", exc, claim.attempts, delay)
        return RetryIn(delay)

    async def _mail_failed(
        self, command: SendMail, key: str, exc: DeliveryError | None, reason: str
    ) -> None:
        event = MailFailed(
            correlation_id=command.message_id,
            template=command.template,
            smtp_code=exc.smtp_code if exc else None,
            reason=reason[:2000],
        )
        await self._record_failure(key, exc, reason, event)

    # --- shared ------------------------------------------------------------------------------

    def _not_claimed(self, claim: Finished | Busy) -> Outcome:
        if isinstance(claim, Finished):
            # Its event may still sit in the outbox (a crash after the write): nudge the relay.
            self.notify()
            logger.info("already %s; nothing sent", claim.state)
            return Done()
        wait = max(1.0, (claim.until - self.clock()).total_seconds())
        logger.info("another delivery of this email is in progress", extra={"wait": wait})
        return RetryIn(wait)

    async def _record_failure(
        self, key: str, exc: DeliveryError | None, reason: str, event: Message
    ) -> None:
        recorded = await self.store.mark_failed(
            key, error=exc, reason=reason, now=self.clock(), outbox=[outbox_entry(event)]
        )
        self._notify_if(recorded)
        logger.error(
            "email failed permanently",
            extra={
                "reason": reason,
                "smtp_code": exc.smtp_code if exc else None,
                "event": event.routing_key,
            },
        )

    def _log_transient(self, what: str, exc: DeliveryError, attempts: int, delay: float) -> None:
        extra = {
            "reason": exc.describe(),
            "smtp_code": exc.smtp_code,
            "attempt": attempts,
            "retry_in": delay,
        }
        if exc.configuration:
            # Every email will fail the same way until an operator fixes the settings.
            logger.error("SMTP relay refused the mailer: %s", exc.describe(), extra=extra)
        else:
            logger.warning(what, extra=extra)

    def _notify_if(self, condition: bool) -> None:
        if condition:
            self.notify()
