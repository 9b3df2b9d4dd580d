"""TLS and AUTH against a real SMTP server: verified certificates, clear errors for operators."""

from __future__ import annotations

import logging

import pytest
from helpdesk_contracts.ticket.v1 import TicketEmailed, TicketEmailFailed

from tests.integration.mailer.conftest import MailerEnv
from tests.support.smtp_sink import SmtpSinkFactory
from tests.unit.mailer import factories as f

pytestmark = pytest.mark.integration

EMAILED = TicketEmailed.routing_key
FAILED = TicketEmailFailed.routing_key
USER, PASSWORD = "helpdesk-bot", "s3cret-пароль"


async def test_starttls_required_by_the_server_with_a_verified_certificate(
    mailer_env: MailerEnv, smtp_sink_factory: SmtpSinkFactory
) -> None:
    sink = smtp_sink_factory(starttls=True, require_starttls=True)
    settings = mailer_env.settings(
        sink, smtp_security="starttls", smtp_ca_file=sink.ca_cert_pem_path
    )
    async with mailer_env.run(settings):
        await mailer_env.publish(f.ticket())
        [mail] = await sink.await_messages(1)
        await mailer_env.wait_event(EMAILED)
    assert mail.tls


async def test_implicit_tls(mailer_env: MailerEnv, smtp_sink_factory: SmtpSinkFactory) -> None:
    sink = smtp_sink_factory(implicit_tls=True)
    settings = mailer_env.settings(sink, smtp_security="tls", smtp_ca_file=sink.ca_cert_pem_path)
    async with mailer_env.run(settings):
        await mailer_env.publish(f.ticket())
        [mail] = await sink.await_messages(1)
    assert mail.tls


async def test_untrusted_certificate_is_refused_and_reported(
    mailer_env: MailerEnv, smtp_sink_factory: SmtpSinkFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="helpdesk.mailer")
    sink = smtp_sink_factory(starttls=True, require_starttls=True)
    settings = mailer_env.settings(sink, smtp_security="starttls")  # no CA: system store only
    async with mailer_env.run(settings):
        await mailer_env.publish(f.ticket())
        [notice] = await mailer_env.wait_event(FAILED)
    assert sink.messages == []
    failed = TicketEmailFailed.model_validate(notice)
    assert failed.permanent is False
    assert "certificate verify failed" in failed.reason
    assert any(
        r.levelno == logging.ERROR and "TLS with the SMTP relay failed" in r.getMessage()
        for r in caplog.records
    )


async def test_plain_client_against_a_starttls_only_server_is_reported(
    mailer_env: MailerEnv, smtp_sink_factory: SmtpSinkFactory
) -> None:
    sink = smtp_sink_factory(starttls=True, require_starttls=True)
    async with mailer_env.run(mailer_env.settings(sink, smtp_security="none")):
        await mailer_env.publish(f.ticket())
        [notice] = await mailer_env.wait_event(FAILED)
    failed = TicketEmailFailed.model_validate(notice)
    assert (failed.permanent, failed.smtp_code) == (False, 530)
    assert sink.messages == []


async def test_auth_failure_is_reported_clearly_and_mail_goes_once_fixed(
    mailer_env: MailerEnv, smtp_sink_factory: SmtpSinkFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sink = smtp_sink_factory(starttls=True, auth=(USER, PASSWORD), auth_required=True)
    common = {"smtp_security": "starttls", "smtp_ca_file": sink.ca_cert_pem_path}
    wrong = mailer_env.settings(sink, smtp_username=USER, smtp_password="wrong-pw", **common)
    async with mailer_env.run(wrong):
        await mailer_env.publish(f.ticket())
        [notice] = await mailer_env.wait_event(FAILED)
    failed = TicketEmailFailed.model_validate(notice)
    assert failed.permanent is False  # the ticket waits for the operator's fix
    assert failed.smtp_code == 535
    assert "SMTP authentication failed" in failed.reason
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("SMTP relay refused the mailer: SMTP authentication failed" in e for e in errors)
    assert sink.messages == []

    # The operator fixes the password and restarts: the queued retry delivers the ticket.
    right = mailer_env.settings(sink, smtp_username=USER, smtp_password=PASSWORD, **common)
    async with mailer_env.run(right):
        [mail] = await sink.await_messages(1, timeout=20)
        await mailer_env.wait_event(EMAILED)
    assert mail.auth_login == USER
    assert mail.tls
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert PASSWORD not in logged
    assert "wrong-pw" not in logged
