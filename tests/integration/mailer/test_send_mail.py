"""SendMail (sign-in codes, notices): delivered, answered, and the code never logged."""

from __future__ import annotations

import logging

import pytest
from helpdesk_contracts.mail.v1 import MailFailed, MailSent
from helpdesk_harness.smtp_sink import SmtpSink

from tests.integration.mailer.conftest import MailerEnv
from tests.integration.mailer.test_ticket_email import text_of
from tests.unit.mailer import factories as f

pytestmark = pytest.mark.integration

CODE = "730519"


async def test_code_email_is_sent_answered_and_never_logged(
    mailer_env: MailerEnv, smtp_sink: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    command = f.send_mail(
        locale="en", variables={"code": CODE, "expires_minutes": "10", "display_name": "Maria"}
    )
    rejected = f.send_mail(variables={"code": CODE})
    async with mailer_env.run(mailer_env.settings(smtp_sink, html_body=True)):
        await mailer_env.publish(command)
        [mail] = await smtp_sink.await_messages(1)
        [sent] = await mailer_env.wait_event(MailSent.routing_key)
        smtp_sink.fail_next(550, "5.1.1 Mailbox unavailable", stage="rcpt")
        await mailer_env.publish(rejected)
        [failed] = await mailer_env.wait_event(MailFailed.routing_key)

    assert mail.rcpt_tos == [f.EMPLOYEE]
    assert mail.message["To"] == f.EMPLOYEE
    assert mail.message["Message-ID"] == f"<{command.message_id}@corp.example>"
    assert CODE in text_of(mail.message, "plain")
    assert CODE in text_of(mail.message, "html")
    assert "Hello, Maria!" in text_of(mail.message, "plain")
    assert MailSent.model_validate(sent).correlation_id == command.message_id
    mail_failed = MailFailed.model_validate(failed)
    assert (mail_failed.correlation_id, mail_failed.smtp_code) == (rejected.message_id, 550)
    assert "5.1.1 Mailbox unavailable" in mail_failed.reason

    logged = "\n".join(f"{r.getMessage()} {r.__dict__} {r.exc_text}" for r in caplog.records)
    assert "mail sent" in logged
    assert CODE not in logged
    assert "Maria" not in logged
