"""An employee's whole journey through the real system: every service is its own OS process.

The sandbox (`helpdesk_sandbox.stack.Sandbox`) starts the five services with slapd (demo
employees), Dovecot, the SMTP sink, the Mongo-wire server, the fake Bot API, the InfraManager
simulator and the web chat. A scripted employee then signs in with the code the SMTP sink
captured, files a ticket with two photos, sees InfraManager's notifications (written by the
simulator into the POP3 mailbox the inbox polls) arrive as Telegram messages, and rates the work;
a neighbour's queue on `helpdesk.events` hears TicketRated. On the way the mailer is SIGKILLed and
restarted. Then an operator's view: /metrics count the real ticket, `helpdesk-admin` commands
are answered by the running services and audit-logged, and no service log holds a secret, the
sign-in code or the ticket's text. At the end the sandbox stops and no process it started is left.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aio_pika
import aiohttp
import pytest
from helpdesk_contracts.base import EVENTS_EXCHANGE
from helpdesk_contracts.ticket.v1 import TicketRated
from helpdesk_gateway.i18n import I18n, Texts
from helpdesk_harness.fake_telegram import ChatMessage, FakeTelegramClient, User
from helpdesk_harness.spool import SmtpSpool, SpooledMail
from helpdesk_sandbox.demo import person
from helpdesk_sandbox.imsim import FIRST_NUMBER
from helpdesk_sandbox.procinfo import descendants, still_alive
from helpdesk_sandbox.stack import Sandbox, SandboxConfig
from PIL import Image

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

WAIT = 30.0
HELPDESK = "inframanager@example.com"
EMPLOYEE = person("maria.ivanova")
T: Texts = I18n.load().texts("ru")


def prefix(key: str) -> str:
    """A text of the bot up to its first {field}: enough to know which message it is."""
    return T(key).split("{", 1)[0]


def picture(size: tuple[int, int], colour: tuple[int, int, int], fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


class Employee:
    """A person at a Telegram client, through the fake Bot API's control API."""

    def __init__(self, tg: FakeTelegramClient, user: User) -> None:
        self.tg = tg
        self.user = user

    async def says(self, text: str) -> None:
        await self.tg.send_text(self.user, text)

    async def sees(
        self, predicate: Callable[[ChatMessage], bool], *, after: int | None = None
    ) -> ChatMessage:
        """The next bot message that matches (after message id `after`, if given)."""
        return await self.tg.wait_for_bot_message(
            self.user.id, predicate, timeout=WAIT, after=after
        )

    async def sees_text(
        self, key: str, *, after: int | None = None, **fields: object
    ) -> ChatMessage:
        expected = T(key, **fields)
        return await self.sees(lambda m: m.visible_text == expected, after=after)

    async def sees_start_of(self, key: str) -> ChatMessage:
        start = prefix(key)
        return await self.sees(lambda m: m.visible_text.startswith(start))

    async def keyboard(self) -> list[str]:
        """The captions of the reply keyboard under the input field."""
        markup = await self.tg.reply_keyboard(self.user.id) or {}
        rows: list[list[Any]] = markup.get("keyboard", [])
        return [b if isinstance(b, str) else str(b["text"]) for row in rows for b in row]

    async def presses(self, message: ChatMessage, caption: str) -> None:
        await self.tg.press_button(self.user, message.message_id, message.callback_data(caption))

    async def sees_edit(
        self, message: ChatMessage, predicate: Callable[[ChatMessage], bool]
    ) -> ChatMessage:
        return await self.tg.wait_for_edit(
            self.user.id, message.message_id, predicate, timeout=WAIT
        )


async def signs_in(maria: Employee, spool: SmtpSpool) -> str:
    """/start, the work email, the code from the email the SMTP sink caught; returns the code."""
    await maria.tg.send_command(maria.user, "start")
    await maria.sees_text("sign-in-welcome")
    await maria.says(EMPLOYEE.email)
    await maria.sees_start_of("sign-in-code-sent")
    code_mails = await spool.wait_for(lambda m: m.is_to(EMPLOYEE.email), timeout=WAIT)
    code = code_mails[-1].code
    assert code is not None
    await maria.says(code)
    await maria.sees_text("sign-in-done", name=EMPLOYEE.name, email=EMPLOYEE.email)
    return code


async def rated_events(
    rabbit_url: str,
) -> tuple[aio_pika.abc.AbstractConnection, asyncio.Queue[bytes]]:
    """A neighbour's queue bound to helpdesk.events for TicketRated."""
    heard: asyncio.Queue[bytes] = asyncio.Queue()
    connection = await aio_pika.connect(rabbit_url)
    channel = await connection.channel()
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(
        await channel.get_exchange(EVENTS_EXCHANGE), routing_key=TicketRated.routing_key
    )

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            heard.put_nowait(message.body)

    await queue.consume(on_message)
    return connection, heard


async def webchat_json(sandbox: Sandbox, path: str) -> Any:
    async with (
        aiohttp.ClientSession() as http,
        http.get(sandbox.webchat_url + path) as response,
    ):
        assert response.status == 200, await response.text()
        return await response.json()


async def test_journey_from_sign_in_to_rating_and_a_clean_stop(tmp_path: Path) -> None:
    before = {p.key for p in descendants(os.getpid())}
    config = SandboxConfig(workdir=tmp_path / "sandbox", pace=0.5, inbox_poll_seconds=0.3)
    sandbox = Sandbox(config)
    await asyncio.to_thread(sandbox.start)
    started = [p for p in descendants(os.getpid()) if p.key not in before]
    try:
        # Every part is a process of its own: the five services, mongoeco, the SMTP sink, the
        # fake Bot API, the simulator and the web chat (Python), slapd and Dovecot.
        assert {"slapd", "dovecot"} <= {p.command for p in started}
        assert sum(1 for p in started if p.command.startswith("python")) >= 10
        reference, code = await journey(sandbox)
        await operations_after_the_journey(sandbox)
    finally:
        await asyncio.to_thread(sandbox.stop)
    # What an operator reads: no secret, no sign-in code, no email body in any service's log.
    assert_no_secret_in_logs(sandbox, code=code, reference=reference)
    # Stopped: nothing it started still runs (an orphan may stay a zombie: PID 1 here does not
    # reap; the `helpdesk sandbox` command reaps those too, see test_sandbox_cli.py).
    assert [p for p in still_alive(started) if not p.zombie] == []


async def journey(sandbox: Sandbox) -> tuple[str, str]:
    """The employee's part; returns the ticket reference and the sign-in code used."""
    connection, heard = await rated_events(sandbox.rabbit_url)
    spool = sandbox.spool
    async with connection, sandbox.telegram_client() as tg:
        maria = Employee(tg, EMPLOYEE.telegram)

        # Sign-in: the code arrives by email (the SMTP sink), as it would in the mailbox.
        code = await signs_in(maria, spool)
        assert T("menu-new-ticket") in await maria.keyboard()

        # The mailer is killed outright and started again before the ticket is written: the
        # restarted process picks up the work (and restart_service waits for it).
        await asyncio.to_thread(sandbox.restart_service, "mailer", kill=True)

        # The wizard: category, description, location, an album of two photos, Send.
        await maria.says(T("menu-new-ticket"))
        question = await maria.sees_text("wizard-choose-category")
        await maria.presses(question, "Принтеры и МФУ")
        sub = await maria.sees_edit(question, lambda m: "Не печатает" in m.button_texts)
        await maria.presses(sub, "Не печатает")
        await maria.sees_start_of("wizard-ask-description")
        description = "Принтер в 301 не печатает, мигает красная лампа"
        await maria.says(description)
        await maria.sees_text("wizard-ask-location")
        await maria.says("Кабинет 301, 3 этаж")
        await maria.sees_start_of("wizard-ask-photos")
        photos = [
            picture((640, 480), (200, 30, 30), "JPEG"),
            picture((800, 600), (30, 30, 200), "PNG"),
        ]
        await tg.send_album(maria.user, photos)
        progress = await maria.sees_start_of("photo-progress-start")
        saved = await maria.sees_edit(progress, lambda m: T("button-photos-done") in m.button_texts)
        await maria.presses(saved, T("button-photos-done"))
        preview = await maria.sees_start_of("wizard-preview")
        assert f"Описание: {description}" in preview.visible_text
        assert "Фото: 2" in preview.visible_text
        await maria.presses(preview, T("button-send"))
        accepted = await maria.sees_start_of("ticket-submitted")
        match = re.search(r"TG-[0-9A-Z]{6}", accepted.visible_text)
        assert match is not None
        reference = match.group(0)

        # The ticket email at the SMTP sink, with both photos attached.
        def is_ticket(mail: SpooledMail) -> bool:
            return mail.is_to(HELPDESK) and reference in mail.subject

        (ticket_mail,) = await spool.wait_for(is_ticket, timeout=WAIT)
        assert ticket_mail.message["Reply-To"].addresses[0].addr_spec == EMPLOYEE.email
        assert description in ticket_mail.text
        attached = ticket_mail.attachments
        assert [a.content_type for a in attached] == ["image/jpeg", "image/jpeg"]
        sizes = [Image.open(io.BytesIO(a.data)).size for a in attached]
        assert sorted(sizes) == [(640, 480), (800, 600)]

        # "Emailed" may overtake "accepted" (both wait for the per-chat send limit), so it is
        # looked for anywhere after the preview.
        await maria.sees_text("notify-emailed", reference=reference, after=preview.message_id)

        # InfraManager (the simulator) answers into the POP3 mailbox; the bot tells the employee.
        label = T("ticket-label-number", reference=reference, number=FIRST_NUMBER)
        await maria.sees_text("notify-status-registered", ticket=label)
        await maria.sees_text("notify-status-in-progress", ticket=label)
        resolved = await maria.sees(
            lambda m: m.visible_text.startswith(T("notify-status-resolved", ticket=label))
        )
        assert T("notify-comment", comment="Проблема устранена, проверьте, пожалуйста.") in (
            resolved.visible_text
        )
        assert sandbox.dovecot is not None
        assert sandbox.dovecot.message_count() == 3

        # The rating: five stars, no comment; a neighbour hears TicketRated.
        # «Проблема решена?» -> «Да» -> the rating question with the stars.
        assert resolved.button_texts == [T("button-solved-yes"), T("button-solved-no")]
        await maria.presses(resolved, T("button-solved-yes"))
        rate = await maria.sees_text("solved-rate", ticket=label)
        await maria.presses(rate, T("button-stars", stars=5))
        ask = await maria.sees_text("rating-ask-comment")
        await maria.presses(ask, T("button-no-comment"))
        await maria.sees_text("rating-thanks")
        body = await asyncio.wait_for(heard.get(), timeout=WAIT)
        rated = TicketRated.model_validate_json(body)
        assert (rated.reference, rated.rating, rated.comment) == (reference, 5, None)
        assert rated.telegram_user_id == EMPLOYEE.telegram.id
        assert rated.itsm_number == str(FIRST_NUMBER)

    # The web chat shows the same chat and the employee's sandbox mailbox.
    chat = await webchat_json(sandbox, f"api/chat/{EMPLOYEE.telegram.id}")
    assert chat["messages"][-1]["text"] == T("rating-thanks")
    user_photos = [m for m in chat["messages"] if not m["from_bot"] and m["kind"] == "photo"]
    assert len(user_photos) == 2
    mailbox = await webchat_json(sandbox, f"api/mailbox/{EMPLOYEE.telegram.id}")
    assert mailbox["mails"][0]["code"] == code
    assert json.dumps(mailbox).count(reference) == 0  # the ticket email went to InfraManager
    return reference, code


def published(metrics_text: str, routing_key: str) -> float:
    """`helpdesk_messages_published_total` for one routing key, from a /metrics page."""
    pattern = (
        rf'^helpdesk_messages_published_total\{{routing_key="{re.escape(routing_key)}"\}} (\S+)$'
    )
    found = re.search(pattern, metrics_text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def admin(sandbox: Sandbox, *args: str) -> tuple[int, str]:
    """`helpdesk-admin ARGS` as an operator runs it, against the running services."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "helpdesk_admin",
        *args,
        env={**os.environ, **sandbox.admin_env(), "USER": "ops-test"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=WAIT * 2)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def operations_after_the_journey(sandbox: Sandbox) -> None:
    # Metrics count the real ticket: one submitted by the gateway, one emailed by the mailer.
    async with aiohttp.ClientSession() as http:
        pages = {}
        for name in ("gateway", "mailer"):
            async with http.get(sandbox.services[name].http_base + "/metrics") as response:
                assert response.status == 200
                pages[name] = await response.text()
    assert published(pages["gateway"], "ticket.submitted.v1") == 1
    assert published(pages["gateway"], "ticket.rated.v1") == 1
    assert published(pages["mailer"], "ticket.emailed.v1") == 1

    # The admin CLI against the running services: each command is answered by its service.
    code, out = await admin(sandbox, "lookup-user", EMPLOYEE.email)
    assert code == 0, out
    assert EMPLOYEE.name in out
    code, out = await admin(sandbox, "run-janitor", "--dry-run")
    assert code == 0, out
    assert "janitor: done" in out
    code, out = await admin(sandbox, "delete-user", EMPLOYEE.email)
    assert code == 0, out
    code, out = await admin(sandbox, "lookup-user", EMPLOYEE.email)
    assert code == 3, out  # not found: the binding is gone
    # The services wrote every admin command to their audit trail, with who asked.
    audit = [
        line
        for name in ("auth", "janitor")
        for line in sandbox.services[name].log_lines()
        if line.get("audit") is True
    ]
    assert {line.get("requested_by") for line in audit} == {"ops-test"}
    assert len(audit) >= 4
    # ...each checked against the sandbox operator's key before it ran.
    received = [line for line in audit if line.get("message") == "admin command received"]
    assert len(received) == 4
    assert {(line.get("key"), line.get("verdict")) for line in received} == {
        ("sandbox-operator", "accepted")
    }


def assert_no_secret_in_logs(sandbox: Sandbox, *, code: str, reference: str) -> None:
    assert sandbox.telegram is not None
    secrets_used = {
        "auth pepper": sandbox.auth_pepper,
        "bot token": sandbox.telegram.token,
        "sign-in code": code,
    }
    if sandbox.slapd is not None:
        secrets_used["LDAP service password"] = sandbox.slapd.service_password
    if sandbox.dovecot is not None:
        secrets_used["POP3 password"] = sandbox.dovecot.password
    logs = {name: service.process.log_text() for name, service in sandbox.services.items()}
    assert all(logs.values()), "every service wrote a log"
    assert any(reference in text for text in logs.values()), "logs do name the ticket"
    for name, text in logs.items():
        for what, secret in secrets_used.items():
            assert secret not in text, f"{what} in the {name} log"
        # The email body (the employee's description) is not logged either.
        assert "мигает красная лампа" not in text, f"ticket description in the {name} log"
