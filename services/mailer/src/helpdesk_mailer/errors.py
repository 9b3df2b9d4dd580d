"""Typed failures of the mailer; the consumers translate them (retry, give up, dead-letter)."""

from __future__ import annotations


class MailerError(Exception):
    """Base of the mailer's own errors."""


class MalformedMessageError(MailerError):
    """The broker message is not the contract it claims to be: it goes to the dead-letter queue.

    The text names fields and error types only, never values (a SendMail may carry a code).
    """


class ComposeError(MailerError):
    """The email cannot be built from this message and templates (a missing variable, say)."""


class DeliveryError(MailerError):
    """SMTP did not accept the message."""

    def __init__(
        self,
        reason: str,
        *,
        smtp_code: int | None = None,
        smtp_reply: str | None = None,
        configuration: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.smtp_code = smtp_code
        self.smtp_reply = smtp_reply
        # The relay refused *us* (AUTH, TLS, sender policy), not this message: an operator must
        # fix the settings, and retrying after the fix delivers it.
        self.configuration = configuration

    def describe(self) -> str:
        """One line for logs and events: reason and the relay's own reply."""
        if self.smtp_code is None:
            return self.reason
        return f"{self.reason}: {self.smtp_code} {self.smtp_reply or ''}".rstrip()


class TransientDeliveryError(DeliveryError):
    """Worth retrying later: connection trouble, timeouts, 4xx replies, relay misconfiguration."""


class PermanentDeliveryError(DeliveryError):
    """Retrying cannot help: the relay refused this message (5xx, too large)."""


class StorageUnavailableError(MailerError):
    """MongoDB (state or GridFS) did not answer; the delivery is retried later."""
