"""When a status read from a mail is a real change worth announcing: pure rules, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from helpdesk_contracts.ticket.v1 import TicketStatus


class Verdict(StrEnum):
    ANNOUNCE = "announce"
    SAME_MAIL = "same_mail"  # this mail was applied already (re-read after a crash, requeued)
    SAME_STATUS = "same_status"  # the ticket already has this status: not a change
    STALE = "stale"  # older than the last announced change (mail read out of order)


@dataclass(frozen=True, slots=True)
class LinkState:
    """The ticket's last announced status, as the store keeps it."""

    status_key: str | None = None
    changed_at: datetime | None = None
    sources: frozenset[str] = frozenset()


def status_key(status: TicketStatus, raw_status: str | None) -> str:
    """Equal keys mean "the same status". Unknown statuses differ by their text."""
    if status is TicketStatus.UNKNOWN:
        return f"unknown:{' '.join((raw_status or '').casefold().split())}"
    return status.value


def plan(state: LinkState, *, key: str, changed_at: datetime, source: str) -> Verdict:
    if source in state.sources:
        return Verdict.SAME_MAIL
    if state.status_key == key:
        return Verdict.SAME_STATUS
    if state.changed_at is not None and changed_at < state.changed_at:
        return Verdict.STALE
    return Verdict.ANNOUNCE
