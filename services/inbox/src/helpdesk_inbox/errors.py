"""Errors of the inbox service; edges translate them (retry, quarantine, exit code)."""

from __future__ import annotations


class InboxError(Exception):
    """Base of every error the inbox raises on purpose."""


class RulesError(InboxError):
    """The rules file cannot be read, is not valid, or holds a bad regex."""


class MailboxError(InboxError):
    """The POP3 mailbox could not be used this time (transient: the next poll tries again)."""


class MailboxUnavailableError(MailboxError):
    """Connection refused, timed out or dropped: the server is down or unreachable."""


class MailboxSecurityError(MailboxError):
    """TLS failed (an untrusted or mismatched certificate, no STLS): needs an operator."""


class MailboxLoginError(MailboxError):
    """The server refused the user or password: needs an operator."""


class MessageFetchError(MailboxError):
    """The server answered -ERR for one message; the session itself is still usable."""
