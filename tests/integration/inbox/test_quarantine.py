"""Mail the inbox cannot use is kept with its raw bytes and reported; nothing is dropped."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from helpdesk_inbox.requeue import requeue

from tests.integration.inbox.conftest import (
    TRUSTED_SENDER,
    InboxEnv,
    mailer_message_id,
    new_ticket,
    notification,
    status_mail,
)
from tests.support import REPO_ROOT

pytestmark = pytest.mark.integration


class Clock:
    """The inbox's clock, moved by hand; it starts at the real now, since what it stamps meets the
    database server's clock (tests/README.md)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


async def test_unmatched_mail_is_quarantined_with_its_bytes_and_reported(
    inbox_env: InboxEnv,
) -> None:
    mail = notification(subject="Заявка №99999 Чужая заявка", body="Статус: В работе\n")
    inbox_env.dovecot.deliver(mail, user=inbox_env.user)
    async with inbox_env.running() as service:
        report = await service.poller.poll_once()
        events = await inbox_env.events.wait_for(1)

    assert report.outcomes["quarantined"] == 1
    [(key, event)] = events
    assert key == "inbox.message_unmatched.v1"
    # A number alone, never linked by a mail with our token or reply headers: never guessed.
    assert event["reason"] == "unknown_number"
    assert event["subject"] == "Заявка №99999 Чужая заявка"
    assert event["mailbox"] == f"{inbox_env.user}@{inbox_env.dovecot.host}"
    assert "number 99999 was never linked" in event["detail"]
    kept = await inbox_env.db["inbox_quarantine"].find_one({})
    assert kept is not None
    assert str(kept["_id"]) == event["quarantine_id"]
    assert kept["uidl"] == event["uidl"]
    assert bytes(kept["raw"]).replace(b"\r\n", b"\n") == mail
    assert kept["state"] == "open"
    assert isinstance(kept["quarantined_at"], datetime)


async def test_mail_over_the_size_limit_is_read_only_as_headers(inbox_env: InboxEnv) -> None:
    ticket_id, reference = new_ticket()
    big = notification(
        subject=f"Заявка №12345 [{reference}] Фото", body="Статус: В работе\n" + "x" * 60_000
    )
    inbox_env.dovecot.deliver(big, user=inbox_env.user)
    async with inbox_env.running(inbox_env.settings(max_message_bytes=16_384)) as service:
        await inbox_env.teach(service, ticket_id, reference)
        report = await service.poller.poll_once()
        events = await inbox_env.events.wait_for(1)

    assert (report.retrieved, report.headers_only) == (0, 1)
    [session] = inbox_env.sessions(1)
    assert (session.retr, session.top) == (0, 1)
    [(key, event)] = events
    assert (key, event["reason"]) == ("inbox.message_unmatched.v1", "too_large")
    kept = await inbox_env.db["inbox_quarantine"].find_one({})
    assert kept is not None
    assert kept["headers_only"] is True
    assert bytes(kept["raw"]).endswith(b"\r\n\r\n")
    assert b"xxxx" not in bytes(kept["raw"])


async def test_an_unknown_reference_waits_for_its_ticket_email_then_matches(
    inbox_env: InboxEnv,
) -> None:
    ticket_id, reference = new_ticket()
    inbox_env.dovecot.deliver(status_mail(reference, "12345", "В работе"), user=inbox_env.user)
    clock = Clock()
    settings = inbox_env.settings(match_grace_seconds=600)
    async with inbox_env.running(settings, clock=clock) as service:
        first = await service.poller.poll_once()
        clock.now += timedelta(minutes=5)
        await inbox_env.teach(service, ticket_id, reference)  # TicketEmailed comes late
        second = await service.poller.poll_once()
        events = await inbox_env.events.wait_for(1)

    assert (first.retrieved, first.outcomes["deferred"]) == (1, 1)
    assert (second.retrieved, second.outcomes["announced"]) == (1, 1)
    assert [(body["reference"], body["status"]) for _, body in events] == [
        (reference, "in_progress")
    ]
    assert await inbox_env.db["inbox_quarantine"].count_documents({}) == 0


async def test_an_unknown_reference_is_quarantined_after_the_grace_period(
    inbox_env: InboxEnv,
) -> None:
    _, reference = new_ticket()
    inbox_env.dovecot.deliver(status_mail(reference, "12345", "В работе"), user=inbox_env.user)
    clock = Clock()
    settings = inbox_env.settings(match_grace_seconds=600)
    async with inbox_env.running(settings, clock=clock) as service:
        deferred = await service.poller.poll_once()
        clock.now += timedelta(minutes=9)
        still = await service.poller.poll_once()
        clock.now += timedelta(minutes=2)
        given_up = await service.poller.poll_once()
        events = await inbox_env.events.wait_for(1)
        after = await service.poller.poll_once()

    assert [r.outcomes["deferred"] for r in (deferred, still)] == [1, 1]
    assert given_up.outcomes["quarantined"] == 1
    assert after.retrieved == 0
    [(key, event)] = events
    assert (key, event["reason"]) == ("inbox.message_unmatched.v1", "no_match")
    assert f"reference {reference} unknown" in event["detail"]


async def test_correlation_by_reply_message_id_then_by_linked_number(inbox_env: InboxEnv) -> None:
    ticket_id, reference = new_ticket()
    async with inbox_env.running() as service:
        await inbox_env.teach(service, ticket_id, reference)
        reply = notification(
            subject="RE: Принтер",
            body="Обращение IM-CL-55501 зарегистрировано.\n",
            headers=f"In-Reply-To: {mailer_message_id(ticket_id, reference)}\n",
        )
        later = status_mail(None, "55501", "Выполнена", date="Thu, 26 Nov 2026 15:00 +0300")
        inbox_env.dovecot.deliver_many([reply, later], user=inbox_env.user)
        report = await service.poller.poll_once()
        events = await inbox_env.events.wait_for(2)

    assert report.outcomes["announced"] == 2
    assert [(body["ticket_id"], body["status"], body["itsm_number"]) for _, body in events] == [
        (ticket_id, "registered", "55501"),
        (ticket_id, "resolved", "55501"),
    ]


def cli_env(env: InboxEnv) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_", "INBOX_"))},
        "HELPDESK_RABBIT_URL": env.rabbit_url,
        "HELPDESK_MONGO_URL": env.mongo_url,
        "HELPDESK_MONGO_DB": env.db.name,
        "INBOX_POP3_HOST": env.dovecot.host,
        "INBOX_POP3_USER": env.user,
        "INBOX_POP3_PASSWORD": env.dovecot.password,
        "INBOX_TRUSTED_SENDERS": TRUSTED_SENDER,
    }


async def run_cli(env: InboxEnv, *args: str) -> bytes:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "helpdesk_inbox",
        *args,
        cwd=REPO_ROOT,
        env=cli_env(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()
    return out


async def test_an_operator_lists_shows_and_exports_what_was_set_aside(
    inbox_env: InboxEnv, tmp_path: Path
) -> None:
    outsider = notification(subject="Заявка №12345 Выполнена", body="Статус: Выполнена\n").replace(
        b"From: InfraManager <im@example.com>", b"From: Eve <eve@example.org>"
    )
    advert = notification(subject="Реклама", body="Купите!\n")
    inbox_env.dovecot.deliver_many([outsider, advert], user=inbox_env.user)
    async with inbox_env.running() as service:
        await service.poller.poll_once()
        await inbox_env.events.wait_for(2)

    listed = [
        json.loads(line)
        for line in (await run_cli(inbox_env, "quarantine", "list")).decode().splitlines()
    ]
    untrusted = await run_cli(inbox_env, "quarantine", "list", "--reason", "untrusted_sender")
    [entry] = [json.loads(line) for line in untrusted.decode().splitlines()]
    shown = json.loads(await run_cli(inbox_env, "quarantine", "show", entry["quarantine_id"]))
    exported = tmp_path / "mail.eml"
    await run_cli(inbox_env, "quarantine", "export", entry["quarantine_id"], "--out", str(exported))

    assert sorted(e["reason"] for e in listed) == ["no_match", "untrusted_sender"]
    assert entry["sender"] == "Eve <eve@example.org>"
    assert "eve@example.org is not in INBOX_TRUSTED_SENDERS" in entry["detail"]
    assert shown["from_addresses"] == ["eve@example.org"]
    assert shown["parsed"]["status"] == "resolved"  # what it claims; it changed nothing
    assert exported.read_bytes().replace(b"\r\n", b"\n") == outsider


async def test_requeue_applies_quarantined_mail_once_its_ticket_is_known(
    inbox_env: InboxEnv,
) -> None:
    ticket_id, reference = new_ticket()
    inbox_env.dovecot.deliver(status_mail(reference, "12345", "Выполнена"), user=inbox_env.user)
    inbox_env.dovecot.deliver(
        notification(subject="Реклама", body="Купите!\n"), user=inbox_env.user
    )
    async with inbox_env.running() as service:
        await service.poller.poll_once()  # no grace: both quarantined at once
        await inbox_env.events.wait_for(2)
        await inbox_env.teach(service, ticket_id, reference)

        # The operator's command, as a process with the service's environment.
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "helpdesk_inbox",
            "requeue-quarantine",
            cwd=REPO_ROOT,
            env=cli_env(inbox_env),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        assert proc.returncode == 0, err.decode()
        events = await inbox_env.events.wait_for(3)
        again: list[dict[str, Any]] = await requeue(service.processor, service.quarantine)

    lines = [json.loads(line) for line in out.decode().splitlines()]
    assert lines[-1] == {"summary": {"announced": 1, "quarantined": 1}, "total": 2}
    assert [event for key, event in events if key == "ticket.status_changed.v1"] == [
        event for _, event in events[2:]
    ]
    assert [(e["reference"], e["status"]) for e in inbox_env.events.status_changes] == [
        (reference, "resolved")
    ]
    assert len(inbox_env.events.unmatched) == 2  # reported once each, not again on requeue
    assert [r["result"] for r in again] == ["quarantined"]  # only the advert is still open
    resolved = await inbox_env.db["inbox_quarantine"].find_one({"state": "resolved"})
    assert resolved is not None
    assert resolved["ticket_id"] == ticket_id
