"""What each SMTP failure means: retry later (and whether an operator must act) or give up."""

from __future__ import annotations

import ssl

import aiosmtplib
import pytest
from helpdesk_mailer.adapters.smtp import SmtpOptions, classify
from helpdesk_mailer.errors import PermanentDeliveryError, TransientDeliveryError

from tests.unit.mailer import factories as f


@pytest.mark.parametrize(
    "exc",
    [
        aiosmtplib.SMTPDataError(421, "4.3.2 Service shutting down"),
        aiosmtplib.SMTPSenderRefused(451, "4.7.1 Try again later", "bot@corp.example"),
        aiosmtplib.SMTPRecipientsRefused(
            [aiosmtplib.SMTPRecipientRefused(452, "4.2.2 Mailbox full", "itsm@corp.example")]
        ),
    ],
)
def test_4xx_replies_are_transient_and_keep_the_reply(exc: Exception) -> None:
    error = classify(exc)
    assert isinstance(error, TransientDeliveryError)
    assert error.smtp_code is not None and 400 <= error.smtp_code < 500
    assert error.smtp_reply and error.smtp_reply.startswith("4.")
    assert not error.configuration


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (aiosmtplib.SMTPDataError(550, "5.7.1 Message rejected"), "rejected"),
        (
            aiosmtplib.SMTPRecipientsRefused(
                [aiosmtplib.SMTPRecipientRefused(550, "5.1.1 No such user", "itsm@corp.example")]
            ),
            "rejected",
        ),
        (aiosmtplib.SMTPSenderRefused(552, "5.3.4 Message size exceeds", "b@c.d"), "too large"),
        (aiosmtplib.SMTPDataError(554, "5.3.4 Message too big for system"), "too large"),
    ],
)
def test_5xx_replies_are_permanent(exc: Exception, reason: str) -> None:
    error = classify(exc)
    assert isinstance(error, PermanentDeliveryError)
    assert reason in error.reason
    assert error.smtp_code is not None and 500 <= error.smtp_code < 600
    assert str(error.smtp_code) in error.describe()


@pytest.mark.parametrize(
    ("exc", "mentions"),
    [
        (
            aiosmtplib.SMTPAuthenticationError(535, "5.7.8 Authentication credentials invalid"),
            "authentication failed",
        ),
        (
            aiosmtplib.SMTPSenderRefused(530, "5.7.0 Authentication required", "b@c.d"),
            "authentication or TLS required",
        ),
        (aiosmtplib.SMTPException("SMTP STARTTLS extension not supported by server."), "STARTTLS"),
        (
            ssl.SSLCertVerificationError(1, "certificate verify failed: self-signed certificate"),
            "MAILER_SMTP_CA_FILE",
        ),
    ],
)
def test_relay_refusing_the_mailer_itself_is_retried_and_flagged_for_operators(
    exc: Exception, mentions: str
) -> None:
    error = classify(exc)
    assert isinstance(error, TransientDeliveryError)
    assert error.configuration
    assert mentions in error.describe()


def test_tls_failure_wrapped_in_a_connect_error_is_recognised() -> None:
    wrapped = aiosmtplib.SMTPConnectError("Error connecting to relay on port 465")
    wrapped.__cause__ = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error = classify(wrapped)
    assert error.configuration
    assert "TLS" in error.reason


@pytest.mark.parametrize(
    "exc",
    [
        aiosmtplib.SMTPConnectError("Error connecting to 127.0.0.1 on port 9: refused"),
        aiosmtplib.SMTPConnectTimeoutError("Timed out connecting"),
        aiosmtplib.SMTPReadTimeoutError("Timed out waiting for server response"),
        aiosmtplib.SMTPServerDisconnected("Connection lost"),
        ConnectionResetError(104, "Connection reset by peer"),
        TimeoutError(),
    ],
)
def test_connection_trouble_is_transient(exc: Exception) -> None:
    error = classify(exc)
    assert isinstance(error, TransientDeliveryError)
    assert error.smtp_code is None
    assert not error.configuration


def test_a_bug_is_not_disguised_as_a_delivery_failure() -> None:
    with pytest.raises(KeyError):
        classify(KeyError("oops"))


def test_options_never_show_the_password() -> None:
    options = SmtpOptions.from_settings(
        f.settings(
            smtp_username="bot", smtp_password="pa55-word", smtp_security="starttls", smtp_port=None
        )
    )
    assert options.password == "pa55-word"
    assert options.port == 587
    assert options.local_hostname == "corp.example"
    assert "pa55-word" not in repr(options)
