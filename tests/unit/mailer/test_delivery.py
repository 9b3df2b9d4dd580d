"""The delivery use cases with in-memory stand-ins for MongoDB, GridFS and SMTP.

What a neighbour observes: the events queued for publication (outbox entries), whether SMTP was
tried, and what the broker is asked to do with the message (ack or retry later).
"""

from __future__ import annotations

import email
import email.policy
import json
import logging
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from helpdesk_contracts.mail.v1 import MailFailed, MailSent
from helpdesk_contracts.ticket.v1 import Attachment, TicketEmailed, TicketEmailFailed
from helpdesk_mailer.adapters.smtp import Receipt
from helpdesk_mailer.adapters.store import Busy, Claim, Claimed, Finished
from helpdesk_mailer.compose import ComposeConfig, LoadedAttachment
from helpdesk_mailer.delivery import Deliveries, Done, RetryIn
from helpdesk_mailer.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from helpdesk_mailer.retry import RetryPolicy
from helpdesk_mailer.templates import Templates

from tests.unit.mailer import factories as f

Document = dict[str, Any]
NOW = datetime(2026, 11, 26, 10, 20, 1, tzinfo=UTC)


@dataclass
class MemoryStore:
    """The state machine of OutgoingMailStore, in a dict (its Mongo form is tested for real)."""

    lease: timedelta = timedelta(minutes=5)
    docs: dict[str, Document] = field(default_factory=dict)

    async def claim(self, key: str, fields: Document, now: datetime) -> Claim:
        doc = self.docs.get(key)
        if doc is None:
            self.docs[key] = {
                **fields,
                "state": "sending",
                "attempts": 1,
                "first_attempt_at": now,
                "lease_until": now + self.lease,
                "delay_notified": False,
                "outbox": [],
            }
            return Claimed(1, now, False)
        if doc["state"] in ("sent", "failed"):
            return Finished(doc["state"])
        if doc["lease_until"] > now:
            return Busy(doc["lease_until"])
        doc.update(state="sending", lease_until=now + self.lease, attempts=doc["attempts"] + 1)
        return Claimed(doc["attempts"], doc["first_attempt_at"], doc["delay_notified"])

    def _finish(self, key: str, changes: Document, outbox: list[Document]) -> bool:
        doc = self.docs[key]
        if doc["state"] not in ("sending", "retrying"):
            return False
        doc.update(changes)
        doc["outbox"] += outbox
        return True

    async def mark_sent(
        self, key: str, *, email_message_id: str, reply: str, now: datetime, outbox: list[Document]
    ) -> bool:
        return self._finish(key, {"state": "sent", "lease_until": now}, outbox)

    async def mark_retrying(
        self,
        key: str,
        *,
        error: DeliveryError | None,
        reason: str,
        next_attempt_at: datetime,
        now: datetime,
        outbox: list[Document],
    ) -> bool:
        changes: Document = {"state": "retrying", "lease_until": now, "reason": reason}
        if outbox:
            changes["delay_notified"] = True
        return self._finish(key, changes, outbox)

    async def mark_failed(
        self,
        key: str,
        *,
        error: DeliveryError | None,
        reason: str,
        now: datetime,
        outbox: list[Document],
    ) -> bool:
        return self._finish(key, {"state": "failed", "reason": reason}, outbox)

    def events(self, key: str) -> list[Document]:
        return [
            json.loads(entry["body"]) | {"_key": entry["routing_key"]}
            for entry in self.docs[key]["outbox"]
        ]


class NoPhotos:
    async def load(self, attachments: list[Attachment]) -> list[LoadedAttachment]:
        assert not attachments
        return []


@dataclass
class ScriptedSmtp:
    """Answers each send with the next scripted failure, then accepts."""

    failures: list[DeliveryError] = field(default_factory=list)
    sent: list[tuple[str, tuple[str, ...], bytes]] = field(default_factory=list)
    attempts: int = 0

    async def send(self, sender: str, recipients: tuple[str, ...], data: bytes) -> Receipt:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((sender, recipients, data))
        return Receipt(reply="2.0.0 Ok: queued", refused={})


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    deliveries: Deliveries
    store: MemoryStore
    smtp: ScriptedSmtp
    clock: Clock
    notified: list[int]


def world(*failures: DeliveryError, total: float = 3600, html: bool = False) -> World:
    store, smtp, clock, notified = MemoryStore(), ScriptedSmtp(list(failures)), Clock(), []
    policy = RetryPolicy(base_seconds=2, max_delay_seconds=600, total_seconds=total)
    deliveries = Deliveries(
        config=ComposeConfig.from_settings(f.settings(html_body=html)),
        templates=Templates(),
        store=store,
        reader=NoPhotos(),
        transport=smtp,
        envelope_from="bounces@corp.example",
        ticket_retry=policy,
        mail_retry=policy,
        notify=lambda: notified.append(1),
        clock=clock,
        rng=random.Random(7),
    )
    return World(deliveries, store, smtp, clock, notified)


TICKET_KEY = f"ticket:{f.TICKET_ID}"
DEFERRED = TransientDeliveryError(
    "the SMTP relay deferred the message", smtp_code=451, smtp_reply="4.3.0 Try later"
)
REJECTED = PermanentDeliveryError(
    "the SMTP relay rejected the message", smtp_code=550, smtp_reply="5.7.1 Spam"
)


async def test_sent_ticket_queues_ticket_emailed_once() -> None:
    w = world()
    ticket = f.ticket()
    assert await w.deliveries.ticket(ticket) == Done()

    [(sender, recipients, data)] = w.smtp.sent
    assert sender == "bounces@corp.example"
    assert recipients == (f.ITSM, f.ITSM_CC)
    assert b"Message-ID: <TG-7F3A2C.6745a1f2c3d4e5f601234560@corp.example>" in data
    [event] = w.store.events(TICKET_KEY)
    emailed = TicketEmailed.model_validate(event)
    assert emailed.email_message_id == "<TG-7F3A2C.6745a1f2c3d4e5f601234560@corp.example>"
    assert emailed.correlation_id == ticket.message_id
    assert emailed.sent_at == NOW
    assert w.notified

    # A redelivery sends nothing more, queues nothing more, but nudges the relay.
    w.notified.clear()
    assert await w.deliveries.ticket(ticket) == Done()
    assert len(w.smtp.sent) == 1
    assert len(w.store.events(TICKET_KEY)) == 1
    assert w.notified


async def test_transient_failure_retries_and_tells_the_user_once() -> None:
    w = world(DEFERRED, DEFERRED)
    ticket = f.ticket()

    first = await w.deliveries.ticket(ticket)
    assert isinstance(first, RetryIn)
    [notice] = w.store.events(TICKET_KEY)
    delayed = TicketEmailFailed.model_validate(notice)
    assert delayed.permanent is False
    assert delayed.smtp_code == 451
    assert delayed.smtp_reply == "4.3.0 Try later"
    assert delayed.next_attempt_at == NOW + timedelta(seconds=first.seconds)

    w.clock.now += timedelta(seconds=first.seconds)
    second = await w.deliveries.ticket(ticket)
    assert isinstance(second, RetryIn)
    assert second.seconds >= first.seconds
    assert len(w.store.events(TICKET_KEY)) == 1  # no second "delayed" notice

    w.clock.now += timedelta(seconds=second.seconds)
    assert await w.deliveries.ticket(ticket) == Done()
    assert len(w.smtp.sent) == 1
    assert [e["_key"] for e in w.store.events(TICKET_KEY)] == [
        "ticket.email_failed.v1",
        "ticket.emailed.v1",
    ]


async def test_permanent_failure_is_reported_with_the_reply_and_not_retried() -> None:
    w = world(REJECTED)
    ticket = f.ticket()
    assert await w.deliveries.ticket(ticket) == Done()
    [event] = w.store.events(TICKET_KEY)
    failed = TicketEmailFailed.model_validate(event)
    assert failed.permanent is True
    assert (failed.smtp_code, failed.smtp_reply) == (550, "5.7.1 Spam")
    assert "rejected" in failed.reason
    # A redelivery of the same message does not try again.
    assert await w.deliveries.ticket(ticket) == Done()
    assert w.smtp.attempts == 1


async def test_gives_up_when_the_retry_time_is_spent() -> None:
    w = world(*[DEFERRED] * 20, total=60)
    ticket = f.ticket()
    outcomes = []
    while True:
        outcome = await w.deliveries.ticket(ticket)
        outcomes.append(outcome)
        if not isinstance(outcome, RetryIn):
            break
        w.clock.now += timedelta(seconds=outcome.seconds)
    assert w.clock.now - NOW <= timedelta(seconds=60)
    assert len(outcomes) > 2
    events = w.store.events(TICKET_KEY)
    assert [TicketEmailFailed.model_validate(e).permanent for e in events] == [False, True]
    assert events[-1]["reason"].startswith(f"gave up after {len(outcomes)} attempts")
    assert events[-1]["smtp_code"] == 451


async def test_a_delivery_in_progress_makes_a_duplicate_wait() -> None:
    w = world()
    ticket = f.ticket()
    await w.store.claim(TICKET_KEY, {}, NOW - timedelta(seconds=10))  # someone else's lease
    outcome = await w.deliveries.ticket(ticket)
    assert isinstance(outcome, RetryIn)
    assert outcome.seconds == pytest.approx(290)
    assert w.smtp.attempts == 0
    # After the lease expired (the other one crashed), this one sends.
    w.clock.now += timedelta(seconds=outcome.seconds)
    assert await w.deliveries.ticket(ticket) == Done()
    assert len(w.smtp.sent) == 1


async def test_send_mail_outcomes_and_no_code_in_any_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    code = "918273"
    variables = {"code": code, "display_name": "Мария", "expires_minutes": "10"}

    ok = world()
    command = f.send_mail(variables=variables)
    assert await ok.deliveries.mail(command) == Done()
    [event] = ok.store.events(f"mail:{command.message_id}")
    sent = MailSent.model_validate(event)
    assert sent.correlation_id == command.message_id
    assert sent.email_message_id == f"<{command.message_id}@corp.example>"
    body = email.message_from_bytes(ok.smtp.sent[0][2], policy=email.policy.default)
    assert isinstance(body, EmailMessage)
    assert code in str(body.get_body(("plain",)).get_content())  # type: ignore[union-attr]

    deferred = world(DEFERRED)
    command = f.send_mail(variables=variables)
    outcome = await deferred.deliveries.mail(command)
    assert isinstance(outcome, RetryIn)
    assert deferred.store.events(f"mail:{command.message_id}") == []  # auth hears only the end

    rejected = world(REJECTED)
    command = f.send_mail(variables=variables)
    assert await rejected.deliveries.mail(command) == Done()
    [event] = rejected.store.events(f"mail:{command.message_id}")
    failed = MailFailed.model_validate(event)
    assert (failed.smtp_code, failed.correlation_id) == (550, command.message_id)

    broken = world()
    command = f.send_mail(variables={"display_name": code})
    assert await broken.deliveries.mail(command) == Done()
    [event] = broken.store.events(f"mail:{command.message_id}")
    assert "code" in event["reason"] and code not in event["reason"]
    assert broken.smtp.attempts == 0

    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert "mail sent" in logged and "email failed permanently" in logged
    assert code not in logged
    assert "Мария" not in logged
