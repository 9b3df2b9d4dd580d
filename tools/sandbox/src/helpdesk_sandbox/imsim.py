"""InfraManager simulator: answers each ticket email the way InfraManager's notifications do.

It watches the SMTP sink's spool; for every ticket email (addressed to the helpdesk address and
carrying our `[TG-XXXXXX]` reference) it writes three notifications into the POP3 mailbox the
inbox service polls, `pace` seconds apart:

1. `Заявка зарегистрирована под номером №<n>`, subject `Заявка №<n> <summary>`;
2. `Статус заявки №<n> изменен на «В работе»`;
3. `Статус заявки №<n> изменен на «Выполнена»` with a `Решение:` line.

As InfraManager's own defaults vary between installations, so do the notifications (chosen from
the number, so a run is reproducible): half keep our reference in the subject (InfraManager uses
the email's subject as the ticket's name), half drop it and answer with `In-Reply-To` set to the
ticket's Message-ID; charsets rotate between koi8-r, utf-8 and cp1251 (quoted-printable or
base64). Later notifications carry only the number, as InfraManager's do, so the inbox must
correlate them through the number it learnt from the registration. A ticket email seen twice
(same Message-ID: an SMTP resend) is ignored, like InfraManager's duplicate detection does.

The conversation (issue 14): every fourth ticket gets a question («Вопрос: ...», status
«Ожидает ответа пользователя») after «В работе», and is resolved only once the employee answers.
Replies the mailer sends into a ticket's thread (`X-Helpdesk-Reply: comment|reopen|cancel`,
`References` naming the ticket email) are answered: a comment with an engineer's comment (no
status line), a reopen with «В работе» and, later, «Выполнена» again, a cancel with «Отменена».
Every `files_every`-th question or comment (counted over all tickets; 2 by default, 0 for never)
comes with a file, as an engineer's often does: a small generated PNG screenshot or a text
report, in turn, so the web chat shows files from support as photos and as documents. With
questions off (`--no-questions`) no file is attached either: scripted employees expect neither.

The building functions are pure; `Simulator` does the I/O and keeps a journal so a restarted
simulator neither answers a ticket twice nor forgets one.

Run as a process: `python -m helpdesk_sandbox.imsim --spool DIR --maildir DIR --pace 5`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email
import email.charset
import email.policy
import email.utils
import json
import re
import signal
import struct
import sys
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from enum import StrEnum
from pathlib import Path
from typing import Literal

from helpdesk_sandbox.maildir import deliver

DEFAULT_HELPDESK_ADDRESS = "inframanager@example.com"
DEFAULT_SENDER = "InfraManager <inframanager@example.com>"
MESSAGE_ID_DOMAIN = "inframanager.example.com"
FIRST_NUMBER = 12345
CHARSET_MODES = ("mixed", "utf-8", "koi8-r", "cp1251")

_TOKEN = re.compile(r"\[?\b(TG-[0-9A-Z]{6})\b\]?")
# Characters some Russian charsets lack, written the way InfraManager's templates then do.
_FALLBACKS = {"№": "N", "«": '"', "»": '"', "—": "-", "–": "-"}

TransferEncoding = Literal["quoted-printable", "base64"]


class Step(StrEnum):
    REGISTERED = "registered"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"


STEPS: tuple[Step, ...] = (Step.REGISTERED, Step.IN_PROGRESS, Step.RESOLVED)


@dataclass(frozen=True, slots=True)
class TicketMail:
    """What the simulator needs from one ticket email."""

    message_id: str
    reference: str
    subject: str
    reply_address: str  # where InfraManager's notifications go: the mailbox that sent it

    @property
    def summary_without_reference(self) -> str:
        return " ".join(_TOKEN.sub(" ", self.subject).split()) or "Заявка из Telegram"


@dataclass(frozen=True, slots=True)
class Style:
    """How one ticket's notifications are written."""

    reference_in_subject: bool  # else the registration answers with In-Reply-To only
    charset: str
    transfer_encoding: TransferEncoding


def read_ticket(raw: bytes, helpdesk_address: str) -> TicketMail | None:
    """The ticket in a captured email, or None if it is not a ticket email (e.g. a code)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    recipients = [str(v) for key in ("To", "Cc") for v in message.get_all(key) or []]
    addresses = {addr.lower() for _, addr in email.utils.getaddresses(recipients)}
    if helpdesk_address.lower() not in addresses:
        return None
    subject = " ".join(str(message.get("Subject", "")).split())
    token = _TOKEN.search(subject)
    message_id = str(message.get("Message-ID", "")).strip()
    if token is None or not message_id:
        return None
    senders = email.utils.getaddresses([str(message.get("From", ""))])
    reply_address = senders[0][1] if senders and senders[0][1] else ""
    if not reply_address:
        return None
    return TicketMail(
        message_id=message_id,
        reference=token.group(1),
        subject=subject,
        reply_address=reply_address,
    )


def style_for(number: int, charset_mode: str = "mixed") -> Style:
    """The variant for ticket `number`: every combination turns up within a few tickets."""
    if charset_mode not in CHARSET_MODES:
        raise ValueError(f"charset must be one of {CHARSET_MODES}")
    charset = ("koi8-r", "utf-8", "cp1251")[number % 3] if charset_mode == "mixed" else charset_mode
    encoding: TransferEncoding = "quoted-printable" if number // 2 % 2 == 0 else "base64"
    return Style(reference_in_subject=number % 2 == 1, charset=charset, transfer_encoding=encoding)


def fit_charset(text: str, charset: str) -> str:
    """`text` with characters the charset lacks replaced (koi8-r has no №, « or »)."""
    out = []
    for char in text:
        try:
            char.encode(charset)
        except UnicodeEncodeError:
            char = _FALLBACKS.get(char, "?")
        out.append(char)
    return "".join(out)


def notification_subject(ticket: TicketMail, number: int, style: Style) -> str:
    summary = ticket.subject if style.reference_in_subject else ticket.summary_without_reference
    return f"Заявка №{number} {summary}"


SOLUTION = "Проблема устранена, проверьте, пожалуйста."
WORDINGS: dict[Step, tuple[tuple[str, ...], ...]] = {
    # Customers' administrators edit InfraManager's templates: the simulator rotates several
    # wordings per status (labels, separators, sentences, English) so the sandbox exercises the
    # inbox's vocabulary. {n}: the number, {summary}: the echoed subject, {solution}: the text.
    Step.REGISTERED: (
        ("Заявка зарегистрирована под номером №{n}.", "Тема: {summary}", "Ссылка: IM-CL-{n}"),
        ("Обращение №{n} зарегистрировано.", "Статус: Зарегистрирована"),
        ("Your request #{n} has been registered.", "Summary: {summary}"),
        ("Заявка №{n}", "Новое состояние: Открыта", "Описание: {summary}"),
    ),
    Step.IN_PROGRESS: (
        ("Статус заявки №{n} изменен на «В работе».",),
        ("Состояние заявки №{n}: В работе",),
        ("Заявка №{n} принята в работу.",),
        ("Request #{n}: status changed from Open to In Progress.",),
        ("Статус: с «Зарегистрирована» на «В работе»",),
    ),
    Step.RESOLVED: (
        ("Статус заявки №{n} изменен на «Выполнена».", "", "Решение: {solution}"),
        ("Новое состояние — Выполнена", "Комментарий: {solution}"),
        ("Request #{n} has been resolved.", "", "Resolution: {solution}"),
        ("Текущее состояние: Решена", "Ответ: {solution}"),
    ),
}


def wording_for(step: Step, number: int) -> tuple[str, ...]:
    """The wording of `step` for ticket `number`: consecutive tickets get the next one."""
    table = WORDINGS[step]
    return table[(number - FIRST_NUMBER) % len(table)]


def notification_body(ticket: TicketMail, step: Step, number: int, style: Style) -> str:
    summary = ticket.subject if style.reference_in_subject else ticket.summary_without_reference
    footer = "Это сообщение сформировано автоматически системой InfraManager."
    lines = [
        line.format(n=number, summary=summary, solution=SOLUTION)
        for line in wording_for(step, number)
    ]
    if step is Step.IN_PROGRESS:
        lines.append("Исполнитель: Сидоров Алексей (ИТ-поддержка, 1 линия)")
    return "\n".join(["Здравствуйте!", "", *lines, "", footer, ""])


def notification_message_id(number: int, step: Step) -> str:
    return f"<{number}.{step.value}@{MESSAGE_ID_DOMAIN}>"


def build_notification(
    ticket: TicketMail,
    step: Step,
    number: int,
    style: Style,
    *,
    sender: str = DEFAULT_SENDER,
    now: datetime,
) -> bytes:
    """The raw notification email, encoded in the style's charset and transfer encoding."""
    charset = email.charset.Charset(style.charset)
    charset.body_encoding = (
        email.charset.QP if style.transfer_encoding == "quoted-printable" else email.charset.BASE64
    )
    charset.header_encoding = email.charset.BASE64
    body = fit_charset(notification_body(ticket, step, number, style), style.charset)
    message: Message = MIMEText(body, "plain", charset)  # type: ignore[arg-type]
    message["From"] = sender
    message["To"] = ticket.reply_address
    subject = fit_charset(notification_subject(ticket, number, style), style.charset)
    # A Header (not its encoded text) so the first encoded word stays on the Subject line;
    # compat32 accepts one although typeshed types this Message's values as str.
    message["Subject"] = Header(subject, charset, header_name="Subject")  # type: ignore[assignment]
    message["Date"] = email.utils.format_datetime(now)
    message["Message-ID"] = notification_message_id(number, step)
    if step is Step.REGISTERED and not style.reference_in_subject:
        message["In-Reply-To"] = ticket.message_id
        message["References"] = ticket.message_id
    message["X-Mailer"] = "InfraManager (helpdesk sandbox simulator)"
    return message.as_bytes()


# --- the conversation about a ticket ----------------------------------------------------------

ReplyPurpose = Literal["comment", "reopen", "cancel"]
ConversationKind = Literal["question", "answer", "reopened", "resolved_again", "cancelled"]
_PURPOSES: tuple[ReplyPurpose, ...] = ("comment", "reopen", "cancel")


@dataclass(frozen=True, slots=True)
class ReplyMail:
    """An employee's reply the mailer sent into a ticket's thread."""

    message_id: str
    purpose: ReplyPurpose
    references: tuple[str, ...]
    text: str


def asks_question(number: int) -> bool:
    """Every fourth ticket: the engineer needs something from the employee first."""
    return number % 4 == 3


def read_reply(raw: bytes, helpdesk_address: str) -> ReplyMail | None:
    """The reply in a captured email, or None if it is not one of the mailer's thread replies."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    header = str(message.get("X-Helpdesk-Reply", "")).strip()
    purpose = next((p for p in _PURPOSES if p == header), None)
    recipients = [str(v) for key in ("To", "Cc") for v in message.get_all(key) or []]
    addresses = {addr.lower() for _, addr in email.utils.getaddresses(recipients)}
    if purpose is None or helpdesk_address.lower() not in addresses:
        return None
    ids = re.findall(
        r"<[^<>\s]+>", f"{message.get('References', '')} {message.get('In-Reply-To', '')}"
    )
    body = message.get_body(("plain",))
    text = str(body.get_content()) if body is not None else ""
    own = (
        text.replace("\r\n", "\n").split("\n--\n", 1)[0].strip()
    )  # the employee's words, without the signature
    return ReplyMail(
        message_id=str(message.get("Message-ID", "")).strip(),
        purpose=purpose,
        references=tuple(dict.fromkeys(ids)),
        text=own,
    )


def conversation_body(kind: ConversationKind, number: int) -> str:
    """InfraManager's notification for one turn of the conversation."""
    footer = "Это сообщение сформировано автоматически системой InfraManager."
    lines = {
        "question": [
            f"Статус заявки №{number} изменен на «Ожидает ответа пользователя».",
            "",
            "Вопрос: Подскажите, пожалуйста, номер кабинета и инвентарный номер устройства?",
        ],
        # No status line: the engineer only comments (the inbox must forward it anyway).
        "answer": [
            f"По заявке №{number} добавлен комментарий.",
            "",
            "Комментарий: Спасибо, информацию получили, специалист уже занимается заявкой.",
        ],
        "reopened": [
            f"Статус заявки №{number} изменен на «В работе».",
            "",
            "Комментарий: Заявка возобновлена по просьбе пользователя.",
        ],
        "resolved_again": [
            f"Статус заявки №{number} изменен на «Выполнена».",
            "",
            "Решение: Повторно проверили и устранили причину.",
        ],
        "cancelled": [
            f"Статус заявки №{number} изменен на «Отменена».",
            "",
            "Комментарий: Заявка отменена по просьбе пользователя.",
        ],
    }[kind]
    return "\n".join(["Здравствуйте!", "", *lines, "", footer, ""])


@dataclass(frozen=True, slots=True)
class AttachedFile:
    """A file an engineer attaches to a notification."""

    filename: str
    content_type: str
    data: bytes


def with_file(text_part: Message, file: AttachedFile | None) -> Message:
    """The notification's text part, or text and file as InfraManager mails an attachment."""
    if file is None:
        return text_part
    message = MIMEMultipart("mixed")
    message.attach(text_part)
    maintype, _, subtype = file.content_type.partition("/")
    attachment = MIMEApplication(file.data, _subtype=subtype or "octet-stream")
    if maintype != "application":
        attachment.replace_header("Content-Type", file.content_type)
    # RFC 2231 keeps a Cyrillic file name intact whatever the body's charset.
    attachment.add_header(
        "Content-Disposition", "attachment", filename=("utf-8", "", file.filename)
    )
    message.attach(attachment)
    return message


def screenshot_png(number: int, width: int = 96, height: int = 64) -> bytes:
    """A small PNG that looks like a screenshot (a title bar, a window, a dialog), its colours
    picked by the ticket number; written by hand so the simulator needs no imaging library."""
    tint = (number * 37) % 160
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter type: none
        for x in range(width):
            if y < 8:
                pixel = (40, 70 + tint // 2, 140)
            elif 20 <= y < 44 and 24 <= x < 72:
                pixel = (250, 250, 250) if y > 24 else (200, 60, 60)
            else:
                pixel = (220, 224, 228)
            row += bytes(pixel)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def engineer_file(number: int, serial: int) -> AttachedFile:
    """The file of the `serial`-th attachment: a screenshot and a text report, in turn."""
    if serial % 2 == 1:
        return AttachedFile(f"screenshot-{number}.png", "image/png", screenshot_png(number))
    report = (
        f"Заявка №{number}: результаты диагностики\n"
        "Сетевое подключение: в порядке\n"
        "Свободно на диске C: 41 ГБ\n"
        "Последнее обновление драйверов: 3 дня назад\n"
    )
    return AttachedFile(f"diagnostics-{number}.txt", "text/plain", report.encode("utf-8"))


def build_conversation_notification(
    ticket: TicketMail,
    kind: ConversationKind,
    number: int,
    style: Style,
    *,
    seq: int,
    file: AttachedFile | None = None,
    sender: str = DEFAULT_SENDER,
    now: datetime,
) -> bytes:
    """A conversation notification, written like the status ones (charset, subject)."""
    charset = email.charset.Charset(style.charset)
    charset.body_encoding = (
        email.charset.QP if style.transfer_encoding == "quoted-printable" else email.charset.BASE64
    )
    charset.header_encoding = email.charset.BASE64
    body = fit_charset(conversation_body(kind, number), style.charset)
    message = with_file(MIMEText(body, "plain", charset), file)  # type: ignore[arg-type]
    message["From"] = sender
    message["To"] = ticket.reply_address
    subject = fit_charset(notification_subject(ticket, number, style), style.charset)
    message["Subject"] = Header(subject, charset, header_name="Subject")  # type: ignore[assignment]
    message["Date"] = email.utils.format_datetime(now)
    message["Message-ID"] = f"<{number}.{kind}.{seq}@{MESSAGE_ID_DOMAIN}>"
    message["X-Mailer"] = "InfraManager (helpdesk sandbox simulator)"
    return message.as_bytes()


# --- the simulator process -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SimConfig:
    spool: Path
    maildir: Path
    pace: float = 5.0
    charset_mode: str = "mixed"
    helpdesk_address: str = DEFAULT_HELPDESK_ADDRESS
    sender: str = DEFAULT_SENDER
    first_number: int = FIRST_NUMBER
    journal: Path | None = None
    poll: float = 0.2
    questions: bool = True
    files_every: int = 2  # every n-th question or comment carries a file; 0: none


@dataclass
class _Ticket:
    mail: TicketMail
    number: int
    due: list[tuple[float, Step]] = field(default_factory=list)
    held: list[Step] = field(default_factory=list)  # waiting for the employee's answer
    talk: list[tuple[float, ConversationKind]] = field(default_factory=list)
    said: int = 0


class Simulator:
    """Reads the spool, plans each ticket's notifications and delivers them when due."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self._seen_files: set[str] = set()
        self._by_message_id: dict[str, _Ticket] = {}
        self._sent: set[tuple[int, Step]] = set()
        self._next_number = config.first_number
        self._comments = 0  # questions and comments said, for `files_every`
        self._load_journal()

    # -- journal -----------------------------------------------------------------------------

    def _load_journal(self) -> None:
        path = self.config.journal
        if path is None or not path.exists():
            return
        restored: list[tuple[TicketMail, int]] = []
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            if "file" in entry:
                self._seen_files.add(entry["file"])
            if "ticket" in entry:
                mail = TicketMail(**entry["ticket"])
                restored.append((mail, int(entry["number"])))
                self._next_number = max(self._next_number, int(entry["number"]) + 1)
            if "sent" in entry:
                self._sent.add((int(entry["sent"]), Step(entry["step"])))
        now = time.monotonic()
        for mail, number in restored:
            ticket = _Ticket(mail, number)
            pending = [step for step in STEPS if (number, step) not in self._sent]
            ticket.due = [(now + self.config.pace * (i + 1), s) for i, s in enumerate(pending)]
            self._by_message_id[mail.message_id] = ticket

    def _record(self, entry: dict[str, object]) -> None:
        if self.config.journal is not None:
            with self.config.journal.open("a") as journal:
                journal.write(json.dumps(entry, ensure_ascii=False) + "\n")

    # -- work --------------------------------------------------------------------------------

    def scan(self, now: float) -> list[_Ticket]:
        """Plan notifications for ticket emails that arrived since the last scan."""
        spool = self.config.spool
        names = sorted(p.name for p in spool.glob("*.eml")) if spool.is_dir() else []
        planned: list[_Ticket] = []
        for name in names:
            if name in self._seen_files:
                continue
            self._seen_files.add(name)
            raw = (spool / name).read_bytes()
            reply = read_reply(raw, self.config.helpdesk_address)
            if reply is not None:
                self._answer(reply, now)
                self._record({"file": name})
                continue
            mail = read_ticket(raw, self.config.helpdesk_address)
            if mail is None or mail.message_id in self._by_message_id:
                self._record({"file": name})
                continue
            ticket = _Ticket(mail, self._next_number)
            self._next_number += 1
            ticket.due = [(now + self.config.pace * (i + 1), s) for i, s in enumerate(STEPS)]
            if self.config.questions and asks_question(ticket.number):
                # Registered, in progress, then a question; resolved once the answer comes.
                ticket.held = [step for _, step in ticket.due if step is Step.RESOLVED]
                ticket.due = [(t, step) for t, step in ticket.due if step is not Step.RESOLVED]
                ticket.talk.append((now + self.config.pace * 3, "question"))
            self._by_message_id[mail.message_id] = ticket
            self._record(
                {
                    "file": name,
                    "ticket": {
                        "message_id": mail.message_id,
                        "reference": mail.reference,
                        "subject": mail.subject,
                        "reply_address": mail.reply_address,
                    },
                    "number": ticket.number,
                }
            )
            planned.append(ticket)
        return planned

    def deliver_due(self, now: float) -> list[tuple[_Ticket, Step]]:
        delivered: list[tuple[_Ticket, Step]] = []
        for ticket in self._by_message_id.values():
            # Status steps and conversation turns go out in the order they fall due.
            while True:
                step_at = ticket.due[0][0] if ticket.due and ticket.due[0][0] <= now else None
                talk_at = ticket.talk[0][0] if ticket.talk and ticket.talk[0][0] <= now else None
                if talk_at is not None and (step_at is None or talk_at < step_at):
                    self._say_turn(ticket, ticket.talk.pop(0)[1])
                elif step_at is not None:
                    step = ticket.due.pop(0)[1]
                    self._send_step(ticket, step)
                    delivered.append((ticket, step))
                else:
                    break
        return delivered

    def _send_step(self, ticket: _Ticket, step: Step) -> None:
        style = style_for(ticket.number, self.config.charset_mode)
        raw = build_notification(
            ticket.mail,
            step,
            ticket.number,
            style,
            sender=self.config.sender,
            now=datetime.now(UTC),
        )
        deliver(self.config.maildir, raw)
        self._sent.add((ticket.number, step))
        self._record({"sent": ticket.number, "step": step.value})

    def _file_for(self, ticket: _Ticket, kind: ConversationKind) -> AttachedFile | None:
        """Every `files_every`-th question or comment comes with a file (never without
        questions: the scripted employees of the fault tests and the benchmark expect none)."""
        every = self.config.files_every
        if kind not in ("question", "answer") or not self.config.questions or every <= 0:
            return None
        self._comments += 1
        if self._comments % every:
            return None
        return engineer_file(ticket.number, self._comments // every)

    def _say_turn(self, ticket: _Ticket, kind: ConversationKind) -> None:
        ticket.said += 1
        file = self._file_for(ticket, kind)
        raw = build_conversation_notification(
            ticket.mail,
            kind,
            ticket.number,
            style_for(ticket.number, self.config.charset_mode),
            seq=ticket.said,
            file=file,
            sender=self.config.sender,
            now=datetime.now(UTC),
        )
        deliver(self.config.maildir, raw)
        self._record({"said": ticket.number, "kind": kind, "seq": ticket.said})
        _say(f"№{ticket.number} {kind}" + (f" with {file.filename}" if file else ""))

    def _answer(self, reply: ReplyMail, now: float) -> None:
        """InfraManager's side of the conversation: plan the answer to an employee's reply."""
        ticket = next(
            (self._by_message_id[i] for i in reply.references if i in self._by_message_id), None
        )
        if ticket is None:
            return
        pace = self.config.pace
        if reply.purpose == "cancel":
            ticket.due, ticket.held = [], []
            ticket.talk.append((now + pace, "cancelled"))
        elif reply.purpose == "reopen":
            ticket.talk += [(now + pace, "reopened"), (now + 2 * pace, "resolved_again")]
        else:
            ticket.talk.append((now + pace, "answer"))
            if ticket.held:  # the question is answered: the work can be finished
                ticket.due += [(now + pace * (i + 2), s) for i, s in enumerate(ticket.held)]
                ticket.held = []

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            now = time.monotonic()
            for ticket in self.scan(now):
                _say(f"ticket {ticket.mail.reference} -> №{ticket.number}")
            for ticket, step in self.deliver_due(time.monotonic()):
                style = style_for(ticket.number, self.config.charset_mode)
                how = "reference" if style.reference_in_subject else "In-Reply-To"
                _say(f"№{ticket.number} {step.value} ({style.charset}, {how})")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.config.poll)


def _say(text: str) -> None:
    print(f"imsim: {text}", flush=True)


def parse_args(argv: Sequence[str]) -> SimConfig:
    parser = argparse.ArgumentParser(prog="python -m helpdesk_sandbox.imsim")
    parser.add_argument("--spool", type=Path, required=True, help="the SMTP sink's spool dir")
    parser.add_argument("--maildir", type=Path, required=True, help="the POP3 mailbox's Maildir")
    parser.add_argument("--pace", type=float, default=5.0, help="seconds between notifications")
    parser.add_argument("--charset", choices=CHARSET_MODES, default="mixed")
    parser.add_argument("--helpdesk-address", default=DEFAULT_HELPDESK_ADDRESS)
    parser.add_argument("--first-number", type=int, default=FIRST_NUMBER)
    parser.add_argument("--journal", type=Path, default=None)
    args = parser.parse_args(argv)
    return SimConfig(
        spool=args.spool,
        maildir=args.maildir,
        pace=args.pace,
        charset_mode=args.charset,
        helpdesk_address=args.helpdesk_address,
        first_number=args.first_number,
        journal=args.journal,
    )


async def _main(config: SimConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    _say(f"watching {config.spool}, answering into {config.maildir} every {config.pace}s")
    await Simulator(config).run(stop)


def main(argv: Sequence[str] | None = None) -> None:
    asyncio.run(_main(parse_args(sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    main()
