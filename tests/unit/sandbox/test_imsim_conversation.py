"""The simulator's side of the conversation: a question that waits for the employee's answer,
and answers to the replies the mailer really composes (comment, reopen, cancel), each read back
by the inbox's parser as the inbox would."""

from __future__ import annotations

import io
from pathlib import Path

from helpdesk_contracts.ticket.v1 import ReplyKind, Requester, SendTicketReply, TicketStatus
from helpdesk_inbox.conversation import MailFile, attachments_of, engineer_text
from helpdesk_inbox.parse import ParsedMail, parse_message
from helpdesk_inbox.rules import load_rules
from helpdesk_mailer.compose import ComposeConfig
from helpdesk_mailer.compose_reply import compose_reply
from helpdesk_mailer.templates import Templates
from helpdesk_sandbox.imsim import SimConfig, Simulator, Step, asks_question, read_reply
from PIL import Image

from tests.unit.mailer import factories as mf
from tests.unit.sandbox.test_imsim import IM, TICKET, ticket_email

RULES = load_rules(None)
QUESTION_NUMBER = next(n for n in range(12345, 12360) if asks_question(n))
CONFIG = ComposeConfig.from_settings(
    mf.settings(ticket_to=[IM], ticket_cc=[], from_address="helpdesk@example.com")
)


def reply(purpose: ReplyKind, text: str) -> bytes:
    command = SendTicketReply(
        ticket_id="6745a1f2c3d4e5f601234560",
        reference=TICKET.reference,
        purpose=purpose,
        requester=Requester(
            telegram_user_id=1, email="maria.ivanova@example.com", display_name="Мария"
        ),
        text=text,
    )
    return compose_reply(command, CONFIG, Templates()).as_bytes()


def newest(maildir: Path, seen: set[str]) -> list[ParsedMail]:
    fresh = sorted(
        (p for p in (maildir / "new").iterdir() if p.name not in seen),
        key=lambda p: p.stat().st_mtime_ns,
    )
    seen.update(p.name for p in fresh)
    return [parse_message(p.read_bytes(), RULES) for p in fresh]


def simulator(
    tmp_path: Path, first_number: int, *, files_every: int = 2, questions: bool = True
) -> tuple[Simulator, Path, Path]:
    spool, maildir = tmp_path / "spool", tmp_path / "Maildir"
    spool.mkdir()
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True)
    (spool / "1.eml").write_bytes(ticket_email())
    config = SimConfig(
        spool=spool,
        maildir=maildir,
        pace=1.0,
        first_number=first_number,
        questions=questions,
        files_every=files_every,
    )
    return Simulator(config), spool, maildir


def test_the_mailers_reply_is_read_as_a_reply_not_as_a_new_ticket() -> None:
    found = read_reply(reply(ReplyKind.COMMENT, "Кабинет 305."), IM)
    assert found is not None
    assert (found.purpose, found.text) == ("comment", "Кабинет 305.")
    assert TICKET.message_id in found.references
    assert read_reply(ticket_email(), IM) is None


def test_a_question_holds_the_resolution_until_the_employee_answers(tmp_path: Path) -> None:
    sim, spool, maildir = simulator(tmp_path, QUESTION_NUMBER)
    seen: set[str] = set()
    sim.scan(now=0.0)
    assert [step for _, step in sim.deliver_due(2.0)] == [Step.REGISTERED, Step.IN_PROGRESS]
    sim.deliver_due(3.0)
    [registered, in_progress, question] = newest(maildir, seen)
    assert question.status is TicketStatus.WAITING
    said = engineer_text(question)
    assert said is not None and said.question
    assert said.text.startswith("Подскажите, пожалуйста, номер кабинета")
    sim.deliver_due(100.0)
    assert newest(maildir, seen) == []  # not resolved without an answer

    (spool / "2.eml").write_bytes(reply(ReplyKind.COMMENT, "Кабинет 305, инв. 1234."))
    sim.scan(now=200.0)
    sim.deliver_due(210.0)
    answer, resolved = newest(maildir, seen)
    assert answer.status is None  # a comment only: the inbox forwards it as a comment
    assert answer.comment is not None and answer.comment.startswith("Спасибо")
    assert resolved.status is TicketStatus.RESOLVED
    assert {m.number for m in (registered, in_progress, answer, resolved)} == {str(QUESTION_NUMBER)}


def test_reopen_and_cancel_are_honoured(tmp_path: Path) -> None:
    sim, spool, maildir = simulator(tmp_path, QUESTION_NUMBER + 1)  # no question
    seen: set[str] = set()
    sim.scan(now=0.0)
    sim.deliver_due(10.0)
    assert [m.status for m in newest(maildir, seen)] == [
        TicketStatus.REGISTERED,
        TicketStatus.IN_PROGRESS,
        TicketStatus.RESOLVED,
    ]
    (spool / "2.eml").write_bytes(reply(ReplyKind.REOPEN, "Снова не печатает."))
    sim.scan(now=20.0)
    sim.deliver_due(30.0)
    assert [m.status for m in newest(maildir, seen)] == [
        TicketStatus.IN_PROGRESS,
        TicketStatus.RESOLVED,
    ]
    (spool / "3.eml").write_bytes(reply(ReplyKind.CANCEL, ""))
    sim.scan(now=40.0)
    sim.deliver_due(50.0)
    [cancelled] = newest(maildir, seen)
    assert cancelled.status is TicketStatus.CANCELLED
    assert cancelled.raw_status == "Отменена"


def files_in(maildir: Path, seen: set[str]) -> list[list[MailFile]]:
    """The files of each new notification, as the inbox takes them out of the mail."""
    fresh = sorted(
        (p for p in (maildir / "new").iterdir() if p.name not in seen),
        key=lambda p: p.stat().st_mtime_ns,
    )
    seen.update(p.name for p in fresh)
    return [attachments_of(p.read_bytes()) for p in fresh]


def test_every_nth_comment_comes_with_a_screenshot_or_a_report(tmp_path: Path) -> None:
    sim, spool, maildir = simulator(tmp_path, QUESTION_NUMBER, files_every=1)
    seen: set[str] = set()
    sim.scan(now=0.0)
    sim.deliver_due(3.0)
    *statuses, question = files_in(maildir, seen)
    assert statuses == [[], []]  # status notifications carry no file
    [screenshot] = question
    assert screenshot.filename == f"screenshot-{QUESTION_NUMBER}.png"
    assert screenshot.content_type == "image/png"
    with Image.open(io.BytesIO(screenshot.data)) as image:  # a real picture the chat can show
        assert image.format == "PNG" and image.size == (96, 64)

    (spool / "2.eml").write_bytes(reply(ReplyKind.COMMENT, "Кабинет 305."))
    sim.scan(now=10.0)
    sim.deliver_due(20.0)
    answer, resolved = files_in(maildir, seen)
    [report] = answer
    assert report.filename == f"diagnostics-{QUESTION_NUMBER}.txt"
    assert report.content_type == "text/plain"
    assert report.data.decode().startswith(f"Заявка №{QUESTION_NUMBER}: результаты диагностики")
    assert resolved == []


def test_by_default_every_second_comment_has_a_file(tmp_path: Path) -> None:
    sim, spool, maildir = simulator(tmp_path, QUESTION_NUMBER)
    seen: set[str] = set()
    sim.scan(now=0.0)
    sim.deliver_due(3.0)
    assert files_in(maildir, seen)[-1] == []  # the question: the first comment
    (spool / "2.eml").write_bytes(reply(ReplyKind.COMMENT, "Кабинет 305."))
    sim.scan(now=10.0)
    sim.deliver_due(20.0)
    answer, _ = files_in(maildir, seen)
    assert [f.content_type for f in answer] == ["image/png"]


def test_without_questions_no_file_is_attached(tmp_path: Path) -> None:
    sim, spool, maildir = simulator(tmp_path, QUESTION_NUMBER, files_every=1, questions=False)
    seen: set[str] = set()
    sim.scan(now=0.0)
    sim.deliver_due(10.0)
    (spool / "2.eml").write_bytes(reply(ReplyKind.COMMENT, "Спасибо."))
    sim.scan(now=20.0)
    sim.deliver_due(30.0)
    # Registered, in progress, resolved (no question held it), the answer: none with a file.
    assert files_in(maildir, seen) == [[], [], [], []]
