"""Tickets as the gateway keeps them, and what each lifecycle event changes and tells the user.

The decisions are pure: given the stored ticket and an event, say whether the event is new,
whether it becomes the current status, and whether the user hears about it. The adapter applies
the decision with a version check, so two events racing for one ticket never both notify.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from helpdesk_contracts.base import Locale
from helpdesk_contracts.ticket.v1 import (
    Attachment,
    Category,
    Requester,
    TicketEmailed,
    TicketEmailFailed,
    TicketStatus,
    TicketStatusChanged,
)
from pydantic import BaseModel, ConfigDict, Field

REFERENCE_ALPHABET = string.digits + string.ascii_uppercase
REFERENCE_LENGTH = 6
RATABLE = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})


def new_reference(choice: Callable[[str], str] = secrets.choice) -> str:
    """`TG-` and six characters of [0-9A-Z]: short enough to read out on the phone."""
    return "TG-" + "".join(choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


class EmailState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    RETRYING = "retrying"
    FAILED = "failed"


class StatusEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: TicketStatus
    raw_status: str | None = None
    itsm_number: str | None = None
    comment: str | None = None
    changed_at: datetime
    message_id: str


class AppliedEvent(BaseModel):
    """A lifecycle event already applied, and what the user was to be told about it."""

    model_config = ConfigDict(extra="ignore")

    id: str
    notify: bool
    ask_rating: bool = False


class Rating(BaseModel):
    model_config = ConfigDict(extra="ignore")

    requested_at: datetime | None = None
    reminded_at: datetime | None = None
    value: int | None = None
    comment: str | None = None
    rated_at: datetime | None = None
    published: bool = False


class Thread(BaseModel):
    """InfraManager's notifications about the ticket: the employee's replies answer them."""

    model_config = ConfigDict(extra="ignore")

    message_ids: list[str] = Field(default_factory=list)
    subject: str | None = None


class TicketRecord(BaseModel):
    """A document of the `tickets` collection."""

    model_config = ConfigDict(extra="ignore")

    id: str
    reference: str
    draft_id: str
    user_id: int
    chat_id: int
    locale: Locale = "ru"
    requester: Requester
    category: Category
    description: str
    location: str | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    submitted_at: datetime
    email_state: EmailState = EmailState.PENDING
    email_sent_at: datetime | None = None
    email_next_attempt_at: datetime | None = None
    status: TicketStatus | None = None
    raw_status: str | None = None
    status_changed_at: datetime | None = None
    itsm_number: str | None = None
    history: list[StatusEntry] = Field(default_factory=list)
    rating: Rating = Field(default_factory=Rating)
    thread: Thread = Field(default_factory=Thread)
    cancel_requested_at: datetime | None = None
    applied_events: list[AppliedEvent] = Field(default_factory=list)
    version: int = 0

    def applied(self, message_id: str) -> AppliedEvent | None:
        return next((e for e in self.applied_events if e.id == message_id), None)

    @property
    def cancellable(self) -> bool:
        """Open, and not withdrawn already: the employee may still withdraw it."""
        finished = self.status in (
            TicketStatus.RESOLVED,  # done: «Нет, не решена» reopens it instead
            TicketStatus.CLOSED,
            TicketStatus.REJECTED,
            TicketStatus.CANCELLED,
        )
        emailed = self.email_state is EmailState.SENT  # else InfraManager has nothing to cancel
        return emailed and not finished and self.cancel_requested_at is None

    @property
    def awaiting_confirmation(self) -> bool:
        """Resolved and not moved on since: «Проблема решена?» still stands, so «Нет, не
        решена» may ask to reopen it."""
        return self.status is TicketStatus.RESOLVED and self.cancel_requested_at is None

    def reopen_refusal(self) -> str | None:
        """Locale key of why «Нет, не решена» cannot reopen the ticket now; None when it can."""
        if self.awaiting_confirmation:
            return None
        if any(entry.status is TicketStatus.RESOLVED for entry in self.history):
            # Resolved once, then reopened, closed or withdrawn: the question is out of date.
            return "reopen-no-longer-awaiting"
        return "reopen-not-resolved"

    def status_key(self) -> str:
        """Locale key of the status the user sees."""
        if self.cancel_requested_at is not None:
            # Until InfraManager confirms (rejected/cancelled or closed), the request is news.
            if self.status in (TicketStatus.REJECTED, TicketStatus.CANCELLED, TicketStatus.CLOSED):
                return "status-cancelled"
            return "status-cancel-requested"
        if self.status is not None:
            return f"status-{self.status.value.replace('_', '-')}"
        return {
            EmailState.PENDING: "status-submitted",
            EmailState.SENT: "status-emailed",
            EmailState.RETRYING: "status-email-retrying",
            EmailState.FAILED: "status-email-failed",
        }[self.email_state]


@dataclass(frozen=True, slots=True)
class Change:
    """What an event does to a ticket: fields to set, a history entry, and the user's message."""

    set_fields: dict[str, object]
    history: StatusEntry | None
    notify: bool
    ask_rating: bool = False


def on_emailed(ticket: TicketRecord, event: TicketEmailed) -> Change:
    first = ticket.email_state != EmailState.SENT
    return Change(
        set_fields={"email_state": EmailState.SENT.value, "email_sent_at": event.sent_at}
        if first
        else {},
        history=None,
        notify=first,
    )


def on_email_failed(ticket: TicketRecord, event: TicketEmailFailed) -> Change:
    if ticket.email_state in (EmailState.SENT, EmailState.FAILED):
        # Sent already (a late failure report of an earlier attempt), or given up and told.
        return Change(set_fields={}, history=None, notify=False)
    if event.permanent:
        return Change(
            set_fields={"email_state": EmailState.FAILED.value, "email_next_attempt_at": None},
            history=None,
            notify=True,
        )
    return Change(
        set_fields={
            "email_state": EmailState.RETRYING.value,
            "email_next_attempt_at": event.next_attempt_at,
        },
        # The user hears once that sending is delayed, not about every retry.
        history=None,
        notify=ticket.email_state == EmailState.PENDING,
    )


MAX_THREAD_IDS = 19
"""InfraManager's notifications kept per ticket: the mailer adds the ticket email's own
Message-ID, and the contract allows 20 in all."""


def thread_fields(thread: Thread, message_id: str | None, subject: str | None) -> dict[str, object]:
    """A notification joins the ticket's thread, so the employee's next reply answers it (a
    status notification as much as a comment: a question often comes with «Ожидает ответа»)."""
    fields: dict[str, object] = {}
    if message_id and message_id not in thread.message_ids:
        fields["thread.message_ids"] = [*thread.message_ids, message_id][-MAX_THREAD_IDS:]
        if subject:
            fields["thread.subject"] = subject
    return fields


def on_status_changed(ticket: TicketRecord, event: TicketStatusChanged, now: datetime) -> Change:
    entry = StatusEntry(
        status=event.status,
        raw_status=event.raw_status,
        itsm_number=event.itsm_number,
        comment=event.comment,
        changed_at=event.changed_at,
        message_id=str(event.message_id),
    )
    fields: dict[str, object] = {}
    if event.itsm_number and not ticket.itsm_number:
        fields["itsm_number"] = event.itsm_number
    fields.update(thread_fields(ticket.thread, event.source_email_id, event.email_subject))
    stale = ticket.status_changed_at is not None and event.changed_at < ticket.status_changed_at
    if stale:
        # An older notification read late: history only; the user already knows better news.
        return Change(set_fields=fields, history=entry, notify=False)
    same = (
        ticket.status == event.status
        and (not event.itsm_number or event.itsm_number == ticket.itsm_number)
        and not event.comment
    )
    fields.update(
        status=event.status.value, raw_status=event.raw_status, status_changed_at=event.changed_at
    )
    ask_rating = (
        event.status in RATABLE
        and ticket.rating.value is None
        and ticket.rating.requested_at is None
    )
    if ask_rating:
        fields["rating.requested_at"] = now
    # The inbox may read the same InfraManager email twice: same status, nothing new to say.
    return Change(set_fields=fields, history=entry, notify=not same, ask_rating=ask_rating)


def history_statuses(history: Sequence[StatusEntry], status: TicketStatus) -> list[datetime]:
    return sorted(entry.changed_at for entry in history if entry.status == status)
