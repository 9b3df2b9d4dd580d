"""Retention rules: which stored item may go, and why. Plain data in, a decision out.

Nothing here does I/O or reads the clock; the caller passes `now`. The same functions decide a
dry run and a real run, which is what makes a dry run report exactly what a run would delete.

Rules for a photo (a GridFS file in the `attachments` bucket):
- Linked to a ticket whose email has not left yet (no TicketEmailed seen): kept, whatever its age.
  The hard maximum does not override this: the photo may still have to go out with the email
  (the mailer retries), and a stuck email is an operator's problem to see, not to hide by
  deleting its evidence.
- Linked to a ticket the janitor has never heard of: kept. The janitor cannot tell whether its
  email left, so it takes the safe side (this also covers a photo whose TicketSubmitted is still
  on its way).
- Linked to an emailed ticket that finished (resolved/closed, or rated) more than
  `closed_after` ago: `closed_tickets`.
- Linked to an emailed ticket submitted more than `max_age` ago, finished or not: `max_age`.
- Not linked to any ticket (an abandoned wizard) and uploaded more than `abandoned_after` ago:
  `abandoned` — but never before the end of the draft it was uploaded for (`draft_expires_at`,
  stamped by the gateway, which drops the draft with a message at that time), so a draft never
  loses its photos while it can still be sent.
Every age is compared strictly: an item exactly at its limit stays one more run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from helpdesk_contracts.ticket.v1 import TicketStatus


class Rule(StrEnum):
    """Why an item was deleted; also the keys of JanitorRunCompleted.purged."""

    CLOSED_TICKETS = "closed_tickets"
    MAX_AGE = "max_age"
    ABANDONED = "abandoned"
    ORPHAN_CHUNKS = "orphan_chunks"
    QUARANTINE = "quarantine"


class KeepReason(StrEnum):
    """Why a photo stayed; reported so an operator can tell why storage does not shrink."""

    NOT_EMAILED = "not_emailed"
    UNKNOWN_TICKET = "unknown_ticket"
    NOT_DUE = "not_due"


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    closed_after: timedelta
    max_age: timedelta
    abandoned_after: timedelta
    quarantine_after: timedelta
    orphan_grace: timedelta
    finished_statuses: frozenset[TicketStatus] = frozenset(
        {TicketStatus.RESOLVED, TicketStatus.CLOSED, TicketStatus.REJECTED}
    )

    def quarantine_cutoff(self, now: datetime) -> datetime:
        """Quarantined mail stamped before this instant may go."""
        return now - self.quarantine_after

    def forget_cutoff(self, now: datetime) -> datetime:
        """Emailed tickets born before this instant have no photos left after a run."""
        return now - self.max_age


@dataclass(frozen=True, slots=True)
class TicketState:
    """What the janitor learnt about one ticket from the lifecycle events."""

    ticket_id: str
    reference: str | None = None
    submitted_at: datetime | None = None
    emailed_at: datetime | None = None
    status: TicketStatus | None = None
    status_at: datetime | None = None
    rated_at: datetime | None = None
    file_ids: frozenset[str] = field(default_factory=frozenset)

    @property
    def born_at(self) -> datetime | None:
        """When the ticket came to be: its submission, or its email if that came first."""
        return self.submitted_at or self.emailed_at

    def finished_at(self, finished_statuses: frozenset[TicketStatus]) -> datetime | None:
        """When the ticket last became finished, or None while it is open.

        The latest event decides: a rating finishes a ticket, a later status change to an open
        status (the ticket was reopened) makes it open again.
        """
        if self.rated_at is not None and (
            self.status_at is None or self.rated_at >= self.status_at
        ):
            return self.rated_at
        if self.status in finished_statuses:
            return self.status_at
        return None


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A photo's metadata (never its bytes)."""

    file_id: str
    ticket_id: str | None
    created_at: datetime
    size: int
    draft_expires_at: datetime | None = None
    """When the gateway drops the draft this photo was uploaded for (None: older photos)."""


@dataclass(frozen=True, slots=True)
class Decision:
    """Exactly one of `rule` (delete, and why) or `keep` (stay, and why) is set."""

    rule: Rule | None = None
    keep: KeepReason | None = None

    @property
    def delete(self) -> bool:
        return self.rule is not None


_KEEP_PRIORITY = (KeepReason.NOT_EMAILED, KeepReason.UNKNOWN_TICKET, KeepReason.NOT_DUE)


def decide_ticket(ticket: TicketState, policy: RetentionPolicy, now: datetime) -> Decision:
    """May the photos of this ticket go now?"""
    if ticket.emailed_at is None:
        return Decision(keep=KeepReason.NOT_EMAILED)
    finished = ticket.finished_at(policy.finished_statuses)
    if finished is not None and now - finished > policy.closed_after:
        return Decision(rule=Rule.CLOSED_TICKETS)
    born = ticket.born_at
    if born is not None and now - born > policy.max_age:
        return Decision(rule=Rule.MAX_AGE)
    return Decision(keep=KeepReason.NOT_DUE)


def linked_tickets(file: StoredFile, tickets: Sequence[TicketState]) -> list[TicketState]:
    """The tickets a photo belongs to: by its metadata, or by a ticket listing it."""
    return [t for t in tickets if t.ticket_id == file.ticket_id or file.file_id in t.file_ids]


def decide_file(
    file: StoredFile, tickets: Sequence[TicketState], policy: RetentionPolicy, now: datetime
) -> Decision:
    """May this photo go now? `tickets` may hold unrelated tickets; the linked ones are used.

    A photo linked to several tickets (it should not happen) stays while any of them keeps it.
    """
    linked = linked_tickets(file, tickets)
    if file.ticket_id is not None and all(t.ticket_id != file.ticket_id for t in linked):
        return Decision(keep=KeepReason.UNKNOWN_TICKET)
    if not linked:
        draft_open = file.draft_expires_at is not None and now < file.draft_expires_at
        if now - file.created_at > policy.abandoned_after and not draft_open:
            return Decision(rule=Rule.ABANDONED)
        return Decision(keep=KeepReason.NOT_DUE)
    decisions = [decide_ticket(t, policy, now) for t in linked]
    kept = {d.keep for d in decisions if d.keep is not None}
    for reason in _KEEP_PRIORITY:
        if reason in kept:
            return Decision(keep=reason)
    if all(d.rule is Rule.CLOSED_TICKETS for d in decisions):
        return Decision(rule=Rule.CLOSED_TICKETS)
    return Decision(rule=Rule.MAX_AGE)


def orphan_due(last_write: datetime | None, policy: RetentionPolicy, now: datetime) -> bool:
    """May chunks whose file document is gone be removed? Not while an upload may be running.

    An unknown age (ids that carry no time) keeps them: guessing could cut a live upload.
    """
    return last_write is not None and now - last_write > policy.orphan_grace
