"""A sign-in code's state and what one VerifyCode does to it. Pure: no clock, no store.

A code is `active` until it is used (the right code, once) or void: too many wrong attempts,
expired, its email failed, or voided by an operator. `judge` decides one attempt: the fields to
change on the stored code and the refusal to answer (None when the employee is authorized).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from helpdesk_contracts.auth.v1 import RejectReason

from helpdesk_auth.codes import hashes_equal


class CodeStatus(StrEnum):
    ACTIVE = "active"
    USED = "used"
    VOID = "void"


class VoidReason(StrEnum):
    ATTEMPTS = "attempts"
    EXPIRED = "expired"
    MAIL_FAILED = "mail_failed"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class CodeRecord:
    """The parts of an `auth_codes` document that decide an attempt."""

    status: CodeStatus
    void_reason: VoidReason | None
    attempts: int
    max_attempts: int
    expires_at: datetime
    code_hash: str
    decoy: bool

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> CodeRecord:
        reason = doc.get("void_reason")
        return cls(
            status=CodeStatus(doc["status"]),
            # A reason written by a newer version reads as "void for some reason".
            void_reason=VoidReason(str(reason)) if reason in VoidReason else None,
            attempts=int(doc["attempts"]),
            max_attempts=int(doc["max_attempts"]),
            expires_at=doc["expires_at"],
            code_hash=str(doc["code_hash"]),
            decoy=bool(doc.get("decoy", False)),
        )


@dataclass(frozen=True, slots=True)
class Judgement:
    changes: dict[str, Any]
    """Fields to set on the stored code (empty: the code stays as it is)."""
    refusal: RejectReason | None
    """What to answer; None: the code was right and is now used."""
    attempts_left: int | None = None


_VOID_ANSWERS = {
    VoidReason.ATTEMPTS: RejectReason.TOO_MANY_ATTEMPTS,
    VoidReason.EXPIRED: RejectReason.EXPIRED,
}


def judge(
    code: CodeRecord, *, entered_hash: str | None, attempt_id: str, now: datetime
) -> Judgement:
    """One VerifyCode against the code.

    `entered_hash` is the HMAC of what the employee typed, or None when it does not even have
    the shape of a code (a typo, a stray message): that uses up no attempt.
    """
    if code.status is CodeStatus.USED:
        return Judgement({}, RejectReason.NO_ACTIVE_CODE)
    if code.status is CodeStatus.VOID:
        answer = RejectReason.NO_ACTIVE_CODE
        if code.void_reason is not None:
            answer = _VOID_ANSWERS.get(code.void_reason, answer)
        left = 0 if answer is RejectReason.TOO_MANY_ATTEMPTS else None
        return Judgement({}, answer, left)
    if now >= code.expires_at:
        expired = {"status": CodeStatus.VOID.value, "void_reason": VoidReason.EXPIRED.value}
        return Judgement(expired, RejectReason.EXPIRED)
    if entered_hash is None:
        return Judgement({}, RejectReason.WRONG_CODE, code.max_attempts - code.attempts)
    if hashes_equal(code.code_hash, entered_hash) and not code.decoy:
        return Judgement({"status": CodeStatus.USED.value, "used_by": attempt_id}, None)
    left = code.max_attempts - code.attempts - 1
    if left <= 0:
        void = {
            "attempts": code.attempts + 1,
            "status": CodeStatus.VOID.value,
            "void_reason": VoidReason.ATTEMPTS.value,
        }
        return Judgement(void, RejectReason.TOO_MANY_ATTEMPTS, 0)
    return Judgement({"attempts": code.attempts + 1}, RejectReason.WRONG_CODE, left)
