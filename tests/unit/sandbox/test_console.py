"""The InfraManager console: the engineer's notifications read by the inbox as meant, and the
console's simulator and API as the web page uses them (files in a temp dir, no servers)."""

from __future__ import annotations

import email
import email.policy
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from helpdesk_contracts.ticket.v1 import TicketStatus
from helpdesk_inbox.parse import parse_message
from helpdesk_inbox.rules import load_rules
from helpdesk_sandbox.console import ConsoleSimulator, create_app, parse_args
from helpdesk_sandbox.engineer import (
    Action,
    ActionError,
    EngineerFile,
    Status,
    build_action_mail,
    check,
)
from helpdesk_sandbox.imsim import SimConfig, TicketMail, style_for

IM = "inframanager@example.com"
BOT = "helpdesk@example.com"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
TICKET = TicketMail(
    message_id="<TG-7F3A2C.6745a1f2c3d4e5f601234560@example.com>",
    reference="TG-7F3A2C",
    subject="[TG-7F3A2C] Не печатает: принтер в 301",
    reply_address=BOT,
)
JPEG = b"\xff\xd8\xff\xe0" + b"0" * 64


def ticket_email(photo: bool = True) -> bytes:
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = f"Helpdesk bot <{BOT}>"
    message["Reply-To"] = "maria.ivanova@example.com"
    message["To"] = IM
    message["Subject"] = TICKET.subject
    message["Message-ID"] = TICKET.message_id
    message.set_content("Описание: принтер не печатает\n", charset="utf-8")
    if photo:
        message.add_attachment(JPEG, maintype="image", subtype="jpeg", filename="photo-1.jpg")
    return message.as_bytes()


@pytest.mark.parametrize("number", range(12345, 12351))
@pytest.mark.parametrize(
    ("action", "before", "status", "comment"),
    [
        (Action.ASK, Status.IN_PROGRESS, TicketStatus.WAITING, "Принтер по USB или по сети?"),
        (Action.COMMENT, Status.IN_PROGRESS, TicketStatus.IN_PROGRESS, "Заказали картридж"),
        (Action.COMMENT, Status.WAITING, TicketStatus.WAITING, "Ждём ответа"),
        (Action.RESOLVE, Status.IN_PROGRESS, TicketStatus.RESOLVED, "Заменили картридж"),
        (Action.REJECT, Status.RECEIVED, TicketStatus.REJECTED, "Это не к нам"),
    ],
)
def test_the_inbox_reads_every_engineer_notification(
    number: int, action: Action, before: Status, status: TicketStatus, comment: str
) -> None:
    style = style_for(number)
    raw = build_action_mail(
        TICKET, action, number, style, status=before, text=comment, serial=3, now=NOW
    )

    parsed = parse_message(raw, load_rules())

    assert parsed.problems == ()
    assert parsed.status is status
    assert parsed.number == str(number)
    assert parsed.comment is not None
    # koi8-r has no «», so they may be written as quotes; the words arrive intact.
    assert parsed.comment.replace('"', "") == comment


def test_a_comment_carries_the_engineers_file() -> None:
    file = EngineerFile(filename="акт №5.pdf", content_type="application/pdf", data=b"%PDF-1.4")
    raw = build_action_mail(
        TICKET,
        Action.COMMENT,
        12345,
        style_for(12345),
        status=Status.IN_PROGRESS,
        text="Акт во вложении",
        file=file,
        now=NOW,
    )

    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "акт №5.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_payload(decode=True) == b"%PDF-1.4"
    assert parse_message(raw, load_rules()).comment == "Акт во вложении"


def test_the_engineer_cannot_skip_registration_or_touch_a_finished_ticket() -> None:
    with pytest.raises(ActionError, match="received"):
        check(Action.ASK, Status.RECEIVED, "вопрос")
    with pytest.raises(ActionError, match="resolved"):
        check(Action.COMMENT, Status.RESOLVED, "ещё")
    with pytest.raises(ActionError, match="needs a text"):
        check(Action.ASK, Status.IN_PROGRESS, "  ")
    check(Action.RESOLVE, Status.IN_PROGRESS, "")  # a default solution is written


def make_dirs(tmp_path: Path) -> SimConfig:
    spool = tmp_path / "spool"
    spool.mkdir()
    maildir = tmp_path / "Maildir"
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True)
    return SimConfig(spool=spool, maildir=maildir, pace=1.0, journal=tmp_path / "journal")


def delivered(config: SimConfig) -> list[EmailMessage]:
    out = []
    for path in sorted((config.maildir / "new").iterdir()):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        out.append(message)
    return out


def body_text(message: EmailMessage) -> str:
    body = message.get_body()
    assert body is not None
    return str(body.get_content())


def status_of(simulator: ConsoleSimulator) -> Status:
    return simulator.tickets[12345].status


def test_manual_mode_waits_for_the_engineer_and_auto_takes_over(tmp_path: Path) -> None:
    config = make_dirs(tmp_path)
    (config.spool / "0001.eml").write_bytes(ticket_email())
    simulator = ConsoleSimulator(config, mode="manual")
    now = time.monotonic()

    simulator.scan(now)
    assert simulator.deliver_due(now + 100) == []  # nobody at the desk: nothing happens

    simulator.act(12345, Action.REGISTER)
    (registered,) = delivered(config)
    assert "зарегистрирована под номером" in body_text(registered)
    assert "IM-CL-12345" in body_text(registered)
    assert status_of(simulator) is Status.REGISTERED

    simulator.set_mode("auto")
    steps = [step.value for _, step in simulator.deliver_due(time.monotonic() + 100)]
    assert steps == ["in_progress", "resolved"]
    assert status_of(simulator) is Status.RESOLVED
    assert len(delivered(config)) == 3

    # A restarted console remembers its tickets, what it sent and the mode.
    again = ConsoleSimulator(config, mode="manual")
    assert again.mode == "auto"
    assert again.tickets[12345].status is Status.RESOLVED
    assert [s.action for s in again.tickets[12345].sent] == [
        "register",
        "in_progress",
        "resolved",
    ]
    assert again.deliver_due(time.monotonic() + 100) == []


@pytest.fixture
async def console(
    tmp_path: Path,
) -> AsyncIterator[tuple[TestClient[web.Request, web.Application], SimConfig]]:
    config = make_dirs(tmp_path)
    (config.spool / "0001.eml").write_bytes(ticket_email())
    simulator = ConsoleSimulator(config, mode="manual")
    simulator.scan(time.monotonic())
    async with TestClient(TestServer(create_app(simulator))) as client:
        yield client, config


async def test_the_console_api_shows_the_email_and_acts(
    console: tuple[TestClient[web.Request, web.Application], SimConfig],
) -> None:
    client, config = console
    listing = await (await client.get("/tickets")).json()
    assert listing["mode"] == "manual"
    (ticket,) = listing["tickets"]
    assert (ticket["number"], ticket["status"]) == (12345, "received")
    assert ticket["actions"] == ["register", "reject"]
    mail = ticket["email"]
    assert mail["subject"] == TICKET.subject
    assert mail["reply_to"] == "maria.ivanova@example.com"
    assert mail["charset"] == "utf-8"
    assert "принтер не печатает" in mail["text"]
    assert [a["filename"] for a in mail["attachments"]] == ["photo-1.jpg"]
    photo = await client.get("/tickets/12345/attachments/0")
    assert (photo.content_type, await photo.read()) == ("image/jpeg", JPEG)

    refused = await client.post("/tickets/12345/ask", json={"text": "USB?"})
    assert refused.status == 409
    assert "received" in await refused.text()
    assert (await client.post("/tickets/99999/register")).status == 404
    assert (await client.post("/tickets/12345/dance")).status == 404
    assert delivered(config) == []

    assert (await client.post("/tickets/12345/register")).status == 200
    asked = await client.post("/tickets/12345/ask", data={"text": "Принтер по USB?"})
    assert asked.status == 200
    assert "Комментарий: Принтер по USB?" in body_text(delivered(config)[-1])
    listing = await (await client.get("/tickets")).json()
    assert listing["tickets"][0]["status"] == "waiting"
    assert [s["action"] for s in listing["tickets"][0]["sent"]] == ["register", "ask"]

    assert (await client.post("/mode", json={"mode": "sometimes"})).status == 400
    assert (await (await client.post("/mode", json={"mode": "auto"})).json()) == {"mode": "auto"}


def test_questions_can_be_turned_off_for_scripted_employees(tmp_path: Path) -> None:
    base = ["--spool", str(tmp_path / "spool"), "--maildir", str(tmp_path / "maildir")]
    asking, _, _ = parse_args(base)
    silent, _, _ = parse_args([*base, "--no-questions"])
    assert (asking.questions, silent.questions) == (True, False)
