"""The use case for SendTicketReply: the employee's comment (or reopen / cancel request) into
the ticket's thread, then the event that says it left, or that it could not.

Same shape as the ticket and SendMail deliveries (claim -> compose -> SMTP -> `sent` + event in
one write); a transient failure is retried by the mail retry policy, a permanent one or running
out of time gives TicketReplyFailed so the employee hears it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol, runtime_checkable

from helpdesk_contracts.base import Message
from helpdesk_contracts.ticket.v1 import (
    CommentAuthor,
    ConversationFile,
    ReplyKind,
    SendTicketReply,
    TicketCancelRequested,
    TicketCommentAdded,
    TicketReopenRequested,
    TicketReplyFailed,
)
from helpdesk_runtime.outbox import outbox_entry

from helpdesk_mailer.adapters.store import Claimed
from helpdesk_mailer.compose_reply import LoadedFile, compose_reply
from helpdesk_mailer.delivery import Deliveries, Done, Outcome, RetryIn
from helpdesk_mailer.errors import ComposeError, DeliveryError, PermanentDeliveryError

logger = logging.getLogger("helpdesk.mailer.replies")


@runtime_checkable
class FileLoader(Protocol):
    async def load_files(self, files: Sequence[ConversationFile]) -> list[LoadedFile]: ...


def sent_event(command: SendTicketReply, email_message_id: str, subject: str) -> Message:
    """What a neighbour learns once the reply has left: a comment, a reopen or a cancel."""
    now = command.occurred_at
    if command.purpose is ReplyKind.REOPEN:
        return TicketReopenRequested(
            correlation_id=command.message_id,
            ticket_id=command.ticket_id,
            reference=command.reference,
            itsm_number=command.itsm_number,
            telegram_user_id=command.requester.telegram_user_id,
            reason=command.text,
            email_message_id=email_message_id,
            requested_at=now,
        )
    if command.purpose is ReplyKind.CANCEL:
        return TicketCancelRequested(
            correlation_id=command.message_id,
            ticket_id=command.ticket_id,
            reference=command.reference,
            itsm_number=command.itsm_number,
            telegram_user_id=command.requester.telegram_user_id,
            reason=command.text,
            email_message_id=email_message_id,
            requested_at=now,
        )
    return TicketCommentAdded(
        correlation_id=command.message_id,
        ticket_id=command.ticket_id,
        reference=command.reference,
        itsm_number=command.itsm_number,
        author=CommentAuthor.EMPLOYEE,
        text=command.text,
        files=command.files,
        telegram_user_id=command.requester.telegram_user_id,
        email_message_id=email_message_id,
        email_subject=subject,
        commented_at=now,
    )


async def deliver_reply(d: Deliveries, command: SendTicketReply) -> Outcome:
    key = f"reply:{command.message_id}"
    fields = {
        "kind": "reply",
        "purpose": command.purpose.value,
        "ticket_id": command.ticket_id,
        "reference": command.reference,
    }
    # Files first: if GridFS is unreachable, nothing is claimed and the retry finds no lease.
    files: list[LoadedFile] = []
    if command.files and isinstance(d.reader, FileLoader):
        files = await d.reader.load_files(command.files)
    elif command.files:
        files = [(file, None) for file in command.files]
    claim = await d.store.claim(key, fields, d.clock())
    if not isinstance(claim, Claimed):
        return d._not_claimed(claim)
    try:
        outgoing = compose_reply(command, d.config, d.templates, files)
    except ComposeError as exc:
        await _failed(d, command, key, None, f"cannot compose the email: {exc}")
        return Done()
    try:
        receipt = await d.transport.send(d.envelope_from, outgoing.recipients, outgoing.as_bytes())
    except PermanentDeliveryError as exc:
        await _failed(d, command, key, exc, exc.describe())
        return Done()
    except DeliveryError as exc:
        now = d.clock()
        delay = d.mail_retry.next_delay(
            attempts=claim.attempts, first_attempt_at=claim.first_attempt_at, now=now, rng=d.rng
        )
        if delay is None:
            reason = f"gave up after {claim.attempts} attempts: {exc.describe()}"
            await _failed(d, command, key, exc, reason)
            return Done()
        await d.store.mark_retrying(
            key,
            error=exc,
            reason=exc.describe(),
            next_attempt_at=now + timedelta(seconds=delay),
            now=now,
            outbox=[],
        )
        d._log_transient("reply delayed", exc, claim.attempts, delay)
        return RetryIn(delay)
    event = sent_event(command, outgoing.message_id, str(outgoing.message["Subject"]))
    recorded = await d.store.mark_sent(
        key,
        email_message_id=outgoing.message_id,
        reply=receipt.reply,
        now=d.clock(),
        outbox=[outbox_entry(event)],
    )
    d._notify_if(recorded)
    logger.info(
        "reply emailed",
        extra={"purpose": command.purpose.value, "email_message_id": outgoing.message_id},
    )
    return Done()


async def _failed(
    d: Deliveries,
    command: SendTicketReply,
    key: str,
    exc: DeliveryError | None,
    reason: str,
) -> None:
    event = TicketReplyFailed(
        correlation_id=command.message_id,
        ticket_id=command.ticket_id,
        reference=command.reference,
        purpose=command.purpose,
        reason=reason[:2000],
    )
    await d._record_failure(key, exc, reason, event)
