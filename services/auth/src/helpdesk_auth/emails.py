"""Email addresses as employees type them: normalise, validate, check the domain, mask."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection

from helpdesk_contracts.base import EmailAddress
from pydantic import TypeAdapter, ValidationError

_EMAIL = TypeAdapter(EmailAddress)


def normalise_email(raw: str) -> str | None:
    """The address trimmed, in Unicode NFKC, with its domain lower-cased; None when it is not one.

    NFKC first: full-width `ｍａｒｉａ@…` or a ligature must be the same address as `maria@…`,
    for the directory lookup as much as for the limits that count by it.
    """
    try:
        return _EMAIL.validate_python(unicodedata.normalize("NFKC", raw))
    except ValidationError:
        return None


def email_key(email: str) -> str:
    """The form addresses are compared and counted by.

    Directories match `mail` case-insensitively, so limits and bindings must too: otherwise
    `Maria@` and `maria@` would be two addresses with two sets of limits. NFKC and case folding
    (not only lower-casing) make every spelling of one address one key.
    """
    return unicodedata.normalize("NFKC", email).casefold()


def domain_of(email: str) -> str:
    return email.rpartition("@")[2].lower()


def domain_allowed(email: str, allowed: Collection[str]) -> bool:
    """Any domain when nothing is configured; otherwise exactly one of the configured ones."""
    return not allowed or domain_of(email) in allowed


def mask_email(email: str) -> str:
    """`m***a@example.com`: enough for the owner to recognise, little for anyone else."""
    local, _, domain = email.rpartition("@")
    if len(local) <= 2:
        return f"{local[:1]}***@{domain}"
    return f"{local[0]}***{local[-1]}@{domain}"
