"""The retention rules as plain functions: every ticket state and age, at the boundaries."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from helpdesk_contracts.ticket.v1 import TicketStatus
from helpdesk_janitor.policy import (
    Decision,
    KeepReason,
    RetentionPolicy,
    Rule,
    StoredFile,
    TicketState,
    decide_file,
    decide_ticket,
    orphan_due,
)

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
DAY = timedelta(days=1)
POLICY = RetentionPolicy(
    closed_after=30 * DAY,
    max_age=180 * DAY,
    abandoned_after=timedelta(hours=48),
    quarantine_after=14 * DAY,
    orphan_grace=timedelta(minutes=60),
)
TID = "6745a1f2c3d4e5f601234560"
FID = "6745a1f2c3d4e5f601234567"
SECOND = timedelta(seconds=1)


BASE = TicketState(
    ticket_id=TID, reference="TG-7F3A2C", submitted_at=NOW - 40 * DAY, emailed_at=NOW - 40 * DAY
)


def ticket(**changes: Any) -> TicketState:
    """A ticket submitted and emailed 40 days ago, with these changes."""
    return replace(BASE, **changes)


def photo(ticket_id: str | None = TID, age: timedelta = 40 * DAY) -> StoredFile:
    return StoredFile(file_id=FID, ticket_id=ticket_id, created_at=NOW - age, size=1000)


KEEP_NOT_DUE = Decision(keep=KeepReason.NOT_DUE)
CLOSED = Decision(rule=Rule.CLOSED_TICKETS)
MAX_AGE = Decision(rule=Rule.MAX_AGE)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        # Open tickets stay until the hard maximum.
        (ticket(), KEEP_NOT_DUE),
        (ticket(status=TicketStatus.IN_PROGRESS, status_at=NOW - 39 * DAY), KEEP_NOT_DUE),
        (ticket(status=TicketStatus.WAITING, status_at=NOW - 39 * DAY), KEEP_NOT_DUE),
        # Finished ones go once N days passed since they finished, strictly.
        (ticket(status=TicketStatus.CLOSED, status_at=NOW - 30 * DAY - SECOND), CLOSED),
        (ticket(status=TicketStatus.CLOSED, status_at=NOW - 30 * DAY), KEEP_NOT_DUE),
        (ticket(status=TicketStatus.RESOLVED, status_at=NOW - 31 * DAY), CLOSED),
        (ticket(rated_at=NOW - 31 * DAY), CLOSED),
        (ticket(rated_at=NOW - 29 * DAY), KEEP_NOT_DUE),
        # Rejected is finished too: its photos go after the same N days.
        (ticket(status=TicketStatus.REJECTED, status_at=NOW - 39 * DAY), CLOSED),
        (ticket(status=TicketStatus.REJECTED, status_at=NOW - 29 * DAY), KEEP_NOT_DUE),
        # Rated, then closed later: the clock starts at the later event.
        (
            ticket(status=TicketStatus.CLOSED, status_at=NOW - 10 * DAY, rated_at=NOW - 35 * DAY),
            KEEP_NOT_DUE,
        ),
        # Resolved and rated, then reopened: open again.
        (
            ticket(
                status=TicketStatus.IN_PROGRESS, status_at=NOW - 31 * DAY, rated_at=NOW - 35 * DAY
            ),
            KEEP_NOT_DUE,
        ),
        # Any emailed ticket goes after the hard maximum, measured from submission.
        (ticket(submitted_at=NOW - 180 * DAY - SECOND), MAX_AGE),
        (ticket(submitted_at=NOW - 180 * DAY), KEEP_NOT_DUE),
        # Submission unknown (TicketSubmitted not seen): the email time stands in.
        (ticket(submitted_at=None, emailed_at=NOW - 181 * DAY), MAX_AGE),
        # Finished and past the maximum: counted as the finished rule.
        (
            ticket(
                submitted_at=NOW - 200 * DAY,
                status=TicketStatus.CLOSED,
                status_at=NOW - 190 * DAY,
            ),
            CLOSED,
        ),
    ],
)
def test_emailed_ticket_rules(state: TicketState, expected: Decision) -> None:
    assert decide_ticket(state, POLICY, NOW) == expected
    assert decide_file(photo(), [state], POLICY, NOW) == expected


@pytest.mark.parametrize(
    "state",
    [
        ticket(emailed_at=None),
        ticket(emailed_at=None, submitted_at=NOW - 1000 * DAY),
        ticket(emailed_at=None, status=TicketStatus.CLOSED, status_at=NOW - 900 * DAY),
        ticket(emailed_at=None, rated_at=NOW - 900 * DAY),
    ],
)
def test_photos_of_a_ticket_whose_email_has_not_left_are_never_deleted(state: TicketState) -> None:
    assert decide_file(photo(age=1000 * DAY), [state], POLICY, NOW) == Decision(
        keep=KeepReason.NOT_EMAILED
    )


def test_photo_of_a_ticket_never_heard_of_is_kept() -> None:
    other = ticket(ticket_id="0" * 24, status=TicketStatus.CLOSED, status_at=NOW - 99 * DAY)
    for known in ([], [other]):
        assert decide_file(photo(age=999 * DAY), known, POLICY, NOW) == Decision(
            keep=KeepReason.UNKNOWN_TICKET
        )


def test_abandoned_wizard_photos_go_after_the_limit_strictly() -> None:
    limit = timedelta(hours=48)
    assert decide_file(photo(None, limit + SECOND), [], POLICY, NOW) == Decision(
        rule=Rule.ABANDONED
    )
    assert decide_file(photo(None, limit), [], POLICY, NOW) == KEEP_NOT_DUE


def test_a_photo_of_a_draft_still_open_stays_past_the_abandoned_limit() -> None:
    """The gateway may be configured to keep drafts longer: the photo waits for its draft."""
    old = photo(None, timedelta(hours=72))
    open_draft = replace(old, draft_expires_at=NOW + SECOND)
    assert decide_file(open_draft, [], POLICY, NOW) == KEEP_NOT_DUE
    dropped = replace(old, draft_expires_at=NOW)
    assert decide_file(dropped, [], POLICY, NOW) == Decision(rule=Rule.ABANDONED)
    # A draft that ends early does not make a photo go before the abandoned limit.
    young = replace(photo(None, timedelta(hours=2)), draft_expires_at=NOW - DAY)
    assert decide_file(young, [], POLICY, NOW) == KEEP_NOT_DUE


def test_a_photo_listed_by_a_ticket_is_not_abandoned_even_without_metadata() -> None:
    listing = ticket(emailed_at=None, file_ids=frozenset({FID}))
    assert decide_file(photo(None, 30 * DAY), [listing], POLICY, NOW) == Decision(
        keep=KeepReason.NOT_EMAILED
    )
    closed = ticket(file_ids=frozenset({FID}), status=TicketStatus.CLOSED, status_at=NOW - 31 * DAY)
    assert decide_file(photo(None, 30 * DAY), [closed], POLICY, NOW) == CLOSED


def test_a_photo_shared_by_two_tickets_stays_while_either_keeps_it() -> None:
    closed = ticket(status=TicketStatus.CLOSED, status_at=NOW - 31 * DAY)
    unsent = ticket(ticket_id="1" * 24, emailed_at=None, file_ids=frozenset({FID}))
    assert decide_file(photo(), [closed, unsent], POLICY, NOW) == Decision(
        keep=KeepReason.NOT_EMAILED
    )
    old = ticket(ticket_id="1" * 24, submitted_at=NOW - 181 * DAY, file_ids=frozenset({FID}))
    assert decide_file(photo(), [closed, old], POLICY, NOW) == MAX_AGE


def test_finished_statuses_are_configurable() -> None:
    policy = RetentionPolicy(
        closed_after=POLICY.closed_after,
        max_age=POLICY.max_age,
        abandoned_after=POLICY.abandoned_after,
        quarantine_after=POLICY.quarantine_after,
        orphan_grace=POLICY.orphan_grace,
        finished_statuses=frozenset({TicketStatus.REJECTED}),
    )
    rejected = ticket(status=TicketStatus.REJECTED, status_at=NOW - 31 * DAY)
    closed = ticket(status=TicketStatus.CLOSED, status_at=NOW - 31 * DAY)
    assert decide_ticket(rejected, policy, NOW) == CLOSED
    assert decide_ticket(closed, policy, NOW) == KEEP_NOT_DUE


def test_orphan_chunks_wait_out_the_grace_period() -> None:
    grace = timedelta(minutes=60)
    assert orphan_due(NOW - grace - SECOND, POLICY, NOW)
    assert not orphan_due(NOW - grace, POLICY, NOW)
    assert not orphan_due(None, POLICY, NOW)


def test_cutoffs() -> None:
    assert POLICY.quarantine_cutoff(NOW) == NOW - 14 * DAY
    assert POLICY.forget_cutoff(NOW) == NOW - 180 * DAY
