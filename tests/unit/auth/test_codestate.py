"""What one VerifyCode does to a code: pure decisions, fixed dates."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from helpdesk_auth.codestate import CodeRecord, CodeStatus, VoidReason, judge
from helpdesk_contracts.auth.v1 import RejectReason

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
RIGHT = "a" * 64
WRONG = "b" * 64

CODE = CodeRecord(
    status=CodeStatus.ACTIVE,
    void_reason=None,
    attempts=0,
    max_attempts=5,
    expires_at=NOW + timedelta(minutes=10),
    code_hash=RIGHT,
    decoy=False,
)


def test_the_right_code_is_used_once_by_this_attempt() -> None:
    verdict = judge(CODE, entered_hash=RIGHT, attempt_id="m1", now=NOW)
    assert verdict.refusal is None
    assert verdict.changes == {"status": "used", "used_by": "m1"}


def test_a_wrong_code_uses_an_attempt_and_says_how_many_are_left() -> None:
    verdict = judge(replace(CODE, attempts=1), entered_hash=WRONG, attempt_id="m2", now=NOW)
    assert verdict.refusal is RejectReason.WRONG_CODE
    assert verdict.attempts_left == 3
    assert verdict.changes == {"attempts": 2}


def test_the_last_wrong_attempt_voids_the_code() -> None:
    verdict = judge(replace(CODE, attempts=4), entered_hash=WRONG, attempt_id="m3", now=NOW)
    assert verdict.refusal is RejectReason.TOO_MANY_ATTEMPTS
    assert verdict.attempts_left == 0
    assert verdict.changes == {"attempts": 5, "status": "void", "void_reason": "attempts"}


def test_input_that_is_not_a_code_uses_no_attempt() -> None:
    verdict = judge(replace(CODE, attempts=2), entered_hash=None, attempt_id="m4", now=NOW)
    assert verdict.refusal is RejectReason.WRONG_CODE
    assert verdict.attempts_left == 3
    assert verdict.changes == {}


def test_an_expired_code_is_voided_even_when_right() -> None:
    verdict = judge(CODE, entered_hash=RIGHT, attempt_id="m5", now=CODE.expires_at)
    assert verdict.refusal is RejectReason.EXPIRED
    assert verdict.changes == {"status": "void", "void_reason": "expired"}


def test_a_decoy_never_succeeds() -> None:
    """The code sent for an unknown address: the same answers, never an authorization."""
    verdict = judge(replace(CODE, decoy=True), entered_hash=RIGHT, attempt_id="m6", now=NOW)
    assert verdict.refusal is RejectReason.WRONG_CODE


@pytest.mark.parametrize(
    ("status", "reason", "answer", "left"),
    [
        (CodeStatus.USED, None, RejectReason.NO_ACTIVE_CODE, None),
        (CodeStatus.VOID, VoidReason.ATTEMPTS, RejectReason.TOO_MANY_ATTEMPTS, 0),
        (CodeStatus.VOID, VoidReason.EXPIRED, RejectReason.EXPIRED, None),
        (CodeStatus.VOID, VoidReason.MAIL_FAILED, RejectReason.NO_ACTIVE_CODE, None),
        (CodeStatus.VOID, VoidReason.ADMIN, RejectReason.NO_ACTIVE_CODE, None),
        (CodeStatus.VOID, None, RejectReason.NO_ACTIVE_CODE, None),
    ],
)
def test_a_finished_code_changes_nothing_and_says_why(
    status: CodeStatus, reason: VoidReason | None, answer: RejectReason, left: int | None
) -> None:
    code = replace(CODE, status=status, void_reason=reason)
    verdict = judge(code, entered_hash=RIGHT, attempt_id="m7", now=NOW)
    assert (verdict.refusal, verdict.attempts_left, verdict.changes) == (answer, left, {})


def test_a_stored_document_reads_into_a_record() -> None:
    doc = {
        "status": "void",
        "void_reason": "some-future-reason",
        "attempts": 3,
        "max_attempts": 5,
        "expires_at": NOW,
        "code_hash": RIGHT,
        "decoy": False,
        "email_key": "maria@example.com",
    }
    record = CodeRecord.from_doc(doc)
    assert record.status is CodeStatus.VOID
    assert record.void_reason is None  # unknown reasons read as "void for some reason"
    assert (record.attempts, record.max_attempts) == (3, 5)
