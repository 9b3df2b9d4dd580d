"""The InfraManager simulator writes notifications the inbox service reads as InfraManager's."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from helpdesk_contracts.ticket.v1 import TicketStatus
from helpdesk_inbox.parse import parse_message
from helpdesk_inbox.rules import load_rules
from helpdesk_sandbox.imsim import (
    STEPS,
    WORDINGS,
    SimConfig,
    Simulator,
    Step,
    TicketMail,
    build_notification,
    notification_body,
    read_ticket,
    style_for,
)

IM = "inframanager@example.com"
BOT = "helpdesk@example.com"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
TICKET = TicketMail(
    message_id="<TG-7F3A2C.6745a1f2c3d4e5f601234560@example.com>",
    reference="TG-7F3A2C",
    subject="[TG-7F3A2C] Не печатает: принтер в 301 «HP» — горит лампа",
    reply_address=BOT,
)
EXPECTED = {
    Step.REGISTERED: TicketStatus.REGISTERED,
    Step.IN_PROGRESS: TicketStatus.IN_PROGRESS,
    Step.RESOLVED: TicketStatus.RESOLVED,
}


def ticket_email(
    *, to: str = IM, subject: str = TICKET.subject, message_id: str = TICKET.message_id
) -> bytes:
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = f"Helpdesk bot <{BOT}>"
    message["Reply-To"] = "maria.ivanova@example.com"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message.set_content("Заявка из Telegram\n", charset="utf-8")
    return message.as_bytes()


def test_reads_ticket_emails_and_ignores_code_emails() -> None:
    assert read_ticket(ticket_email(), IM) == TICKET
    assert read_ticket(ticket_email(to="maria.ivanova@example.com"), IM) is None
    assert read_ticket(ticket_email(subject="Код входа"), IM) is None


def test_styles_vary_over_a_few_tickets() -> None:
    styles = [style_for(number) for number in range(12345, 12351)]
    assert {s.reference_in_subject for s in styles} == {True, False}
    assert {s.charset for s in styles} == {"koi8-r", "utf-8", "cp1251"}
    assert {s.transfer_encoding for s in styles} == {"quoted-printable", "base64"}
    assert {style_for(n, "utf-8").charset for n in range(12345, 12351)} == {"utf-8"}
    with pytest.raises(ValueError, match="charset"):
        style_for(1, "latin-1")


@pytest.mark.parametrize("number", range(12345, 12357))
@pytest.mark.parametrize("step", STEPS)
def test_the_inbox_reads_every_notification(number: int, step: Step) -> None:
    style = style_for(number)
    raw = build_notification(TICKET, step, number, style, now=NOW)

    parsed = parse_message(raw, load_rules())

    assert parsed.problems == ()
    assert parsed.status is EXPECTED[step]
    assert parsed.number == str(number)
    if style.reference_in_subject:
        assert parsed.token == TICKET.reference
    else:
        assert parsed.token is None
        replies = (TICKET.message_id,) if step is Step.REGISTERED else ()
        assert parsed.reply_to_ids == replies
    if step is Step.RESOLVED:
        assert parsed.comment == "Проблема устранена, проверьте, пожалуйста."


def test_wordings_rotate_over_consecutive_tickets() -> None:
    def wording(step: Step, number: int) -> str:
        body = notification_body(TICKET, step, number, style_for(number, "utf-8"))
        return re.sub(r"\d+", "N", body)

    seen = {step: {wording(step, n) for n in range(12345, 12357)} for step in STEPS}
    assert {step: len(texts) for step, texts in seen.items()} == {
        step: len(WORDINGS[step]) for step in STEPS
    }
    resolved = "\n".join(seen[Step.RESOLVED])
    for text in ("Статус заявки", "Новое состояние —", "has been resolved", "Текущее состояние"):
        assert text in resolved


def test_notification_is_in_the_declared_charset() -> None:
    number = next(n for n in range(12345, 12360) if style_for(n).charset == "koi8-r")
    raw = build_notification(TICKET, Step.REGISTERED, number, style_for(number), now=NOW)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)

    assert message.get_content_charset() == "koi8-r"
    body = message.get_content()
    # koi8-r has no № or «»: written the way such templates do, with N and plain quotes.
    assert f"Заявка зарегистрирована под номером N{number}." in body
    assert str(message["Subject"]).startswith(f"Заявка N{number} ")
    assert message["To"] == BOT
    assert message["From"] == "InfraManager <inframanager@example.com>"


def _maildir(root: Path) -> Path:
    for sub in ("tmp", "new", "cur"):
        (root / sub).mkdir(parents=True)
    return root


def _delivered(maildir: Path) -> list[str]:
    return [
        str(email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["Message-ID"])
        for p in sorted((maildir / "new").iterdir())
    ]


def test_simulator_answers_each_ticket_once_at_its_pace(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    maildir = _maildir(tmp_path / "Maildir")
    (spool / "1-00001.eml").write_bytes(ticket_email(to="maria.ivanova@example.com"))
    (spool / "2-00002.eml").write_bytes(ticket_email())
    (spool / "3-00003.eml").write_bytes(ticket_email())  # an SMTP resend: same Message-ID
    config = SimConfig(spool=spool, maildir=maildir, pace=1.0, journal=tmp_path / "journal")
    sim = Simulator(config)

    planned = sim.scan(now=100.0)
    assert [(t.mail.reference, t.number) for t in planned] == [("TG-7F3A2C", 12345)]
    assert sim.deliver_due(100.9) == []
    assert [step for _, step in sim.deliver_due(101.0)] == [Step.REGISTERED]
    assert [step for _, step in sim.deliver_due(103.0)] == [Step.IN_PROGRESS, Step.RESOLVED]
    assert _delivered(maildir) == [
        "<12345.registered@inframanager.example.com>",
        "<12345.in_progress@inframanager.example.com>",
        "<12345.resolved@inframanager.example.com>",
    ]

    # Restarted on the same journal: nothing is answered twice, new tickets get new numbers.
    again = Simulator(config)
    assert again.scan(now=200.0) == []
    assert again.deliver_due(1e12) == []
    (spool / "4-00004.eml").write_bytes(ticket_email(message_id="<TG-ZZZZZZ.1@example.com>"))
    assert [t.number for t in again.scan(now=300.0)] == [12346]


def test_restarted_simulator_finishes_what_it_started(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    maildir = _maildir(tmp_path / "Maildir")
    (spool / "1-00001.eml").write_bytes(ticket_email())
    config = SimConfig(spool=spool, maildir=maildir, pace=1.0, journal=tmp_path / "journal")
    first = Simulator(config)
    first.scan(now=0.0)
    assert [step for _, step in first.deliver_due(1.0)] == [Step.REGISTERED]

    # Stopped here; a new simulator sends only what is missing, and nothing twice.
    resumed = Simulator(config)
    assert [step for _, step in resumed.deliver_due(1e12)] == [Step.IN_PROGRESS, Step.RESOLVED]
    assert len(_delivered(maildir)) == 3
