"""One-time codes: generated with `secrets`, stored only as an HMAC, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

CODE_DIGITS = 6

_SEPARATORS = re.compile(r"[\s\-]+")


def new_code() -> str:
    """Six random digits, leading zeros kept."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(
    pepper: bytes, *, telegram_user_id: int, email_key: str, request_id: str, code: str
) -> str:
    """HMAC-SHA256 of the code bound to its Telegram user, address and request.

    Binding the context into the MAC means a code is worthless for any other user or address,
    and equal codes of different requests never have equal hashes.
    """
    message = "\x1f".join((str(telegram_user_id), email_key, request_id, code)).encode()
    return hmac.new(pepper, message, hashlib.sha256).hexdigest()


def normalise_code_input(raw: str) -> str | None:
    """What the employee typed without spaces and dashes, if it has the shape of a code."""
    candidate = _SEPARATORS.sub("", raw)
    if len(candidate) == CODE_DIGITS and candidate.isascii() and candidate.isdigit():
        return candidate
    return None


def hashes_equal(stored: str, candidate: str) -> bool:
    return hmac.compare_digest(stored.encode(), candidate.encode())
