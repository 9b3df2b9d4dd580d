"""Poison on the work queues goes to the dead-letter queue, logged; consuming goes on."""

from __future__ import annotations

import json
import logging

import pytest
from helpdesk_contracts.base import COMMANDS_EXCHANGE, EVENTS_EXCHANGE
from helpdesk_contracts.mail.v1 import SendMail
from helpdesk_contracts.ticket.v1 import TicketEmailed, TicketSubmitted
from helpdesk_harness.smtp_sink import SmtpSink
from helpdesk_mailer.consumers import MAIL_QUEUE, TICKET_QUEUE

from tests.integration.mailer.conftest import MailerEnv
from tests.integration.mailer.test_ticket_email import wait_for_log
from tests.unit.mailer import factories as f

pytestmark = pytest.mark.integration


async def test_garbage_is_dead_lettered_and_the_next_ticket_still_goes_out(
    mailer_env: MailerEnv, smtp_sink: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    garbage = b"\x00\xff this is not a ticket"
    incomplete = json.dumps({"ticket_id": f.TICKET_ID, "reference": "TG-7F3A2C"}).encode()
    secret_command = f.send_mail().model_dump(mode="json")
    secret_command["to"] = "not-an-address"  # invalid, and it carries a code
    async with mailer_env.run(mailer_env.settings(smtp_sink)):
        key = TicketSubmitted.routing_key
        await mailer_env.publish_raw(garbage, routing_key=key, exchange=EVENTS_EXCHANGE)
        await mailer_env.publish_raw(incomplete, routing_key=key, exchange=EVENTS_EXCHANGE)
        await mailer_env.publish_raw(
            json.dumps(secret_command).encode(),
            routing_key=SendMail.routing_key,
            exchange=COMMANDS_EXCHANGE,
        )
        await mailer_env.publish(f.ticket())
        [mail] = await smtp_sink.await_messages(1)
        await mailer_env.wait_event(TicketEmailed.routing_key)
        await wait_for_log(caplog, "malformed message dead-lettered", count=3)

    assert mail.message["X-Helpdesk-Ticket"] == "TG-7F3A2C"
    assert sorted(await mailer_env.dead_letters(TICKET_QUEUE)) == sorted([garbage, incomplete])
    assert len(await mailer_env.dead_letters(MAIL_QUEUE)) == 1
    reasons = [
        r.__dict__["reason"]
        for r in caplog.records
        if r.getMessage() == "malformed message dead-lettered"
    ]
    assert len(reasons) == 3
    assert any("<body>: json_invalid" in reason for reason in reasons)
    assert any("requester: missing" in reason for reason in reasons)
    assert any("to: string_pattern_mismatch" in reason for reason in reasons)
    assert "042817" not in "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
