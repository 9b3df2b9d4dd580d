"""The InfraManager console: the simulator with a person at the engineer's desk.

`ConsoleSimulator` is the simulator (imsim.Simulator) plus what a console needs: every ticket it
received with the email as it arrived, its number and status, and the engineer's actions
(engineer.py), each delivered as a notification into the same POP3 Maildir. In "auto" mode it
paces registered → in progress → resolved by itself as before; in "manual" mode nothing happens
until the engineer acts. An action on a ticket in auto mode takes that ticket out of the
automatic plan, as an engineer picking it up would.

The process (`python -m helpdesk_sandbox.console ...`, started by the sandbox) serves the
console's JSON API on 127.0.0.1 for the web chat, which passes it on to the page:

GET  /tickets                              {mode, tickets: [...]} newest first
GET  /tickets/{number}/attachments/{i}     a file of the ticket email
POST /mode                                 {"mode": "auto" | "manual"}
POST /tickets/{number}/{action}            multipart: text, file (optional)
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import json
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from aiohttp import BodyPartReader, web

from helpdesk_sandbox.engineer import (
    AFTER,
    ALLOWED,
    FINAL,
    STEP_STATUS,
    Action,
    ActionError,
    EngineerFile,
    Status,
    build_action_mail,
)
from helpdesk_sandbox.imsim import (
    CHARSET_MODES,
    DEFAULT_HELPDESK_ADDRESS,
    FIRST_NUMBER,
    STEPS,
    SimConfig,
    Simulator,
    Step,
    _Ticket,
    build_notification,
    style_for,
)
from helpdesk_sandbox.maildir import deliver

Mode = Literal["auto", "manual"]
MODES: tuple[Mode, ...] = ("auto", "manual")
MAX_FILE = 10 * 1024 * 1024
MAX_TEXT = 4000


@dataclass(frozen=True, slots=True)
class MailView:
    """A ticket email as InfraManager received it, for the console to show."""

    subject: str
    sender: str
    reply_to: str
    date: str
    message_id: str
    charset: str
    transfer_encoding: str
    text: str
    attachments: tuple[tuple[str, str, int], ...]  # (file name, content type, size)

    def to_json(self) -> dict[str, object]:
        return {
            "subject": self.subject,
            "from": self.sender,
            "reply_to": self.reply_to,
            "date": self.date,
            "message_id": self.message_id,
            "charset": self.charset,
            "transfer_encoding": self.transfer_encoding,
            "text": self.text,
            "attachments": [
                {"index": i, "filename": name, "content_type": kind, "size": size}
                for i, (name, kind, size) in enumerate(self.attachments)
            ],
        }


def _parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(message, EmailMessage):  # the default policy always builds one
        raise TypeError("not an EmailMessage")
    return message


def mail_view(raw: bytes) -> MailView:
    message = _parse(raw)
    body = message.get_body(preferencelist=("plain", "html"))
    text = ""
    charset = transfer = ""
    if body is not None:
        content = body.get_content()
        text = content.replace("\r\n", "\n") if isinstance(content, str) else ""
        charset = body.get_content_charset() or ""
        transfer = body.get("Content-Transfer-Encoding", "")
    attachments = []
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        size = len(payload) if isinstance(payload, bytes) else 0
        attachments.append((part.get_filename() or "", part.get_content_type(), size))
    return MailView(
        subject=str(message.get("Subject", "")),
        sender=str(message.get("From", "")),
        reply_to=str(message.get("Reply-To", "")),
        date=str(message.get("Date", "")),
        message_id=str(message.get("Message-ID", "")).strip(),
        charset=charset,
        transfer_encoding=str(transfer),
        text=text,
        attachments=tuple(attachments),
    )


def attachment_bytes(raw: bytes, index: int) -> tuple[str, bytes]:
    """(content type, bytes) of the index-th attachment; IndexError if there is none."""
    part = list(_parse(raw).iter_attachments())[index]
    payload = part.get_payload(decode=True)
    return part.get_content_type(), payload if isinstance(payload, bytes) else b""


@dataclass
class Sent:
    """A notification the console's InfraManager sent."""

    action: str
    subject: str
    text: str
    at: str
    attachment: str | None = None


@dataclass
class ConsoleTicket:
    number: int
    file: str
    status: Status = Status.RECEIVED
    sent: list[Sent] = field(default_factory=list)


class ConsoleSimulator(Simulator):
    """The simulator with a console: tickets to look at, an engineer's actions, a mode."""

    def __init__(self, config: SimConfig, *, mode: Mode = "auto") -> None:
        self.mode: Mode = mode
        self.tickets: dict[int, ConsoleTicket] = {}
        self._serial = 0
        super().__init__(config)
        self._load_console_journal()
        if self.mode == "manual":
            for ticket in self._by_message_id.values():
                ticket.due.clear()

    # -- journal: which file each ticket came from, what the console did, the mode ----------

    def _load_console_journal(self) -> None:
        path = self.config.journal
        if path is None or not path.exists():
            return
        by_number = {t.number: t for t in self._by_message_id.values()}
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            if "ticket" in entry and int(entry["number"]) in by_number:
                self.tickets[int(entry["number"])] = ConsoleTicket(
                    number=int(entry["number"]), file=str(entry["file"])
                )
            elif "console" in entry and int(entry["console"]) in self.tickets:
                ticket = self.tickets[int(entry["console"])]
                ticket.status = Status(entry["status"])
                ticket.sent.append(Sent(**entry["notification"]))
                self._serial = max(self._serial, int(entry.get("serial", 0)))
            elif "mode" in entry:
                self.mode = entry["mode"]

    # -- the simulator's own work, seen by the console ------------------------------------

    def scan(self, now: float) -> list[_Ticket]:
        planned = super().scan(now)
        for ticket in planned:
            name = self._file_of(ticket)
            self.tickets[ticket.number] = ConsoleTicket(number=ticket.number, file=name)
            if self.mode == "manual":
                ticket.due.clear()
        return planned

    def _file_of(self, ticket: _Ticket) -> str:
        spool = self.config.spool
        for path in sorted(spool.glob("*.eml"), reverse=True):
            if ticket.mail.message_id in path.read_bytes().decode("latin-1"):
                return path.name
        return ""

    def deliver_due(self, now: float) -> list[tuple[_Ticket, Step]]:
        delivered = super().deliver_due(now)
        for ticket, step in delivered:
            console = self.tickets.get(ticket.number)
            if console is None:
                continue
            # The same pure function wrote it a moment ago; rebuilt rather than read back, as
            # the inbox may already have fetched and deleted it.
            raw = build_notification(
                ticket.mail,
                step,
                ticket.number,
                style_for(ticket.number, self.config.charset_mode),
                sender=self.config.sender,
                now=datetime.now(UTC),
            )
            self._note(console, step.value, STEP_STATUS[step], raw, None)
        return delivered

    def _note(
        self,
        console: ConsoleTicket,
        action: str,
        status: Status,
        raw: bytes,
        attachment: str | None,
        serial: int = 0,
    ) -> None:
        view = mail_view(raw) if raw else None
        sent = Sent(
            action=action,
            subject=view.subject if view else "",
            text=view.text if view else "",
            at=datetime.now(UTC).isoformat(timespec="seconds"),
            attachment=attachment,
        )
        console.status = status
        console.sent.append(sent)
        self._record(
            {
                "console": console.number,
                "status": status.value,
                "serial": serial,
                "notification": {
                    "action": sent.action,
                    "subject": sent.subject,
                    "text": sent.text,
                    "at": sent.at,
                    "attachment": sent.attachment,
                },
            }
        )

    # -- the console ---------------------------------------------------------------------------

    def _ticket(self, number: int) -> _Ticket:
        for ticket in self._by_message_id.values():
            if ticket.number == number:
                return ticket
        raise KeyError(number)

    def set_mode(self, mode: Mode) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        if mode == self.mode:
            return
        self.mode = mode
        self._record({"mode": mode})
        now = time.monotonic()
        for ticket in self._by_message_id.values():
            if mode == "manual":
                ticket.due.clear()
                continue
            console = self.tickets.get(ticket.number)
            if console is None or console.status in FINAL:
                continue
            # From where the ticket stands: what the automatic InfraManager would do next.
            done = {Status.RECEIVED: 0, Status.REGISTERED: 1}.get(console.status, 2)
            rest = STEPS[done:]
            ticket.due = [(now + self.config.pace * (i + 1), s) for i, s in enumerate(rest)]

    def act(
        self, number: int, action: Action, text: str = "", file: EngineerFile | None = None
    ) -> Sent:
        """Do what the engineer asked; the notification is in the Maildir when this returns."""
        console = self.tickets[number]
        ticket = self._ticket(number)
        style = style_for(number, self.config.charset_mode)
        self._serial += 1
        raw = build_action_mail(
            ticket.mail,
            action,
            number,
            style,
            status=console.status,
            text=text,
            file=file,
            serial=self._serial,
            sender=self.config.sender,
            now=datetime.now(UTC),
        )
        deliver(self.config.maildir, raw)
        ticket.due.clear()  # the engineer has taken this ticket over
        step = {Action.REGISTER: Step.REGISTERED, Action.TAKE: Step.IN_PROGRESS}.get(action)
        if action is Action.RESOLVE:
            step = Step.RESOLVED
        if step is not None:
            self._sent.add((number, step))
            self._record({"sent": number, "step": step.value})
        after = AFTER[action] or console.status
        self._note(console, action.value, after, raw, file.filename if file else None, self._serial)
        return console.sent[-1]

    def snapshot(self) -> dict[str, Any]:
        tickets = []
        for console in sorted(self.tickets.values(), key=lambda t: t.number, reverse=True):
            path = self.config.spool / console.file
            view = mail_view(path.read_bytes()) if console.file and path.exists() else None
            tickets.append(
                {
                    "number": console.number,
                    "reference": self._ticket(console.number).mail.reference,
                    "status": console.status.value,
                    "actions": [a.value for a in ALLOWED[console.status]],
                    "automatic": bool(self._ticket(console.number).due),
                    "email": view.to_json() if view else None,
                    "sent": [
                        {
                            "action": s.action,
                            "subject": s.subject,
                            "text": s.text,
                            "at": s.at,
                            "attachment": s.attachment,
                        }
                        for s in console.sent
                    ],
                }
            )
        return {"mode": self.mode, "tickets": tickets}

    def email_attachment(self, number: int, index: int) -> tuple[str, bytes]:
        console = self.tickets[number]
        return attachment_bytes((self.config.spool / console.file).read_bytes(), index)


# --- the HTTP API -------------------------------------------------------------------------------

SIM_KEY = web.AppKey("simulator", ConsoleSimulator)


def _number(request: web.Request) -> int:
    try:
        number = int(request.match_info["number"])
    except ValueError:
        raise web.HTTPNotFound(text="no such ticket") from None
    if number not in request.app[SIM_KEY].tickets:
        raise web.HTTPNotFound(text="no such ticket")
    return number


async def list_tickets(request: web.Request) -> web.StreamResponse:
    return web.json_response(request.app[SIM_KEY].snapshot())


async def get_attachment(request: web.Request) -> web.StreamResponse:
    number = _number(request)
    try:
        kind, data = request.app[SIM_KEY].email_attachment(number, int(request.match_info["i"]))
    except (IndexError, ValueError):
        raise web.HTTPNotFound(text="no such attachment") from None
    return web.Response(body=data, content_type=kind)


async def set_mode(request: web.Request) -> web.StreamResponse:
    wanted = str((await request.json()).get("mode", ""))
    mode = next((m for m in MODES if m == wanted), None)
    if mode is None:
        raise web.HTTPBadRequest(text=f"mode must be one of {', '.join(MODES)}")
    simulator = request.app[SIM_KEY]
    simulator.set_mode(mode)
    return web.json_response({"mode": simulator.mode})


async def do_action(request: web.Request) -> web.StreamResponse:
    number = _number(request)
    try:
        action = Action(request.match_info["action"])
    except ValueError:
        raise web.HTTPNotFound(text="no such action") from None
    text = ""
    file: EngineerFile | None = None
    if request.content_type.startswith("multipart/"):
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "text":
                text = (await part.text())[:MAX_TEXT]
            elif part.name == "file" and part.filename:
                data = bytes(await part.read())
                if len(data) > MAX_FILE:
                    raise web.HTTPRequestEntityTooLarge(max_size=MAX_FILE, actual_size=len(data))
                file = EngineerFile(
                    filename=part.filename,
                    content_type=part.headers.get("Content-Type", "application/octet-stream"),
                    data=data,
                )
    elif request.content_type == "application/x-www-form-urlencoded":
        text = str((await request.post()).get("text", ""))[:MAX_TEXT]
    elif request.content_type == "application/json" and request.can_read_body:
        try:
            text = str((await request.json()).get("text", ""))[:MAX_TEXT]
        except ValueError:
            raise web.HTTPBadRequest(text="the body is not JSON") from None
    try:
        sent = request.app[SIM_KEY].act(number, action, text, file)
    except ActionError as error:
        raise web.HTTPConflict(text=str(error)) from None
    _say(f"№{number} {action.value} by the engineer")
    return web.json_response({"ok": True, "subject": sent.subject})


def create_app(simulator: ConsoleSimulator) -> web.Application:
    app = web.Application(client_max_size=MAX_FILE + 1024 * 1024)
    app[SIM_KEY] = simulator
    app.router.add_get("/tickets", list_tickets)
    app.router.add_get("/tickets/{number}/attachments/{i}", get_attachment)
    app.router.add_post("/mode", set_mode)
    app.router.add_post("/tickets/{number}/{action}", do_action)
    return app


# --- the process --------------------------------------------------------------------------------


def _say(text: str) -> None:
    print(f"imsim: {text}", flush=True)


def parse_args(argv: Sequence[str]) -> tuple[SimConfig, Mode, int]:
    parser = argparse.ArgumentParser(prog="python -m helpdesk_sandbox.console")
    parser.add_argument("--spool", type=Path, required=True, help="the SMTP sink's spool dir")
    parser.add_argument("--maildir", type=Path, required=True, help="the POP3 mailbox's Maildir")
    parser.add_argument("--pace", type=float, default=5.0, help="seconds between notifications")
    parser.add_argument("--charset", choices=CHARSET_MODES, default="mixed")
    parser.add_argument("--helpdesk-address", default=DEFAULT_HELPDESK_ADDRESS)
    parser.add_argument("--first-number", type=int, default=FIRST_NUMBER)
    parser.add_argument("--journal", type=Path, default=None)
    parser.add_argument("--mode", choices=MODES, default="auto")
    parser.add_argument("--port", type=int, default=0, help="the console API's port (0: any)")
    parser.add_argument(
        "--no-questions",
        dest="questions",
        action="store_false",
        help="never ask the employee a question (scripted employees do not answer one)",
    )
    parser.add_argument(
        "--files-every",
        type=int,
        default=2,
        help="every n-th question or comment comes with a file (0: never; none without questions)",
    )
    args = parser.parse_args(argv)
    config = SimConfig(
        spool=args.spool,
        maildir=args.maildir,
        pace=args.pace,
        charset_mode=args.charset,
        helpdesk_address=args.helpdesk_address,
        first_number=args.first_number,
        journal=args.journal,
        questions=args.questions,
        files_every=args.files_every,
    )
    return config, args.mode, args.port


async def serve(config: SimConfig, mode: Mode, port: int) -> None:
    simulator = ConsoleSimulator(config, mode=mode)
    runner = web.AppRunner(create_app(simulator), handle_signals=False, access_log=None)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        bound = runner.addresses[0][1]
        _say(
            f"watching {config.spool}, answering into {config.maildir} every {config.pace}s "
            f"({simulator.mode}); console http://127.0.0.1:{bound}/"
        )
        await simulator.run(stop)
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> None:
    asyncio.run(serve(*parse_args(sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    main()
