"""Errors of the auth service; the consumers translate them (retry later, reject, answer)."""

from __future__ import annotations

from helpdesk_runtime.optimistic import ConflictError


class AuthError(Exception):
    """Base of every auth error."""


class DirectoryUnavailableError(AuthError):
    """The directory could not be asked (down, slow, TLS or bind failure): try again later."""


class StoreUnavailableError(AuthError):
    """MongoDB did not answer; the message is retried later, nothing is lost."""


class StoreConflictError(AuthError, ConflictError):
    """A code claim raced with another delivery of the same request; retried later."""
