"""Failures: the POP3 server down then up, and a crash between reading a mail and publishing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from helpdesk_inbox.adapters.seen import SeenStore
from helpdesk_inbox.errors import MailboxUnavailableError

from tests.integration.inbox.conftest import InboxEnv, new_ticket, status_mail

pytestmark = pytest.mark.integration


async def test_polling_survives_the_server_being_down_and_reads_the_mail_once_it_is_up(
    private_inbox_env: InboxEnv,
) -> None:
    env = private_inbox_env
    ticket_id, reference = new_ticket()
    env.dovecot.stop()
    env.dovecot.deliver(status_mail(reference, "12345", "Выполнена"))
    settings = env.settings(poll_enabled=True, poll_interval_seconds=0.2)

    async with env.running(settings) as service:
        await env.teach(service, ticket_id, reference)
        await asyncio.sleep(0.6)  # a few polls fail meanwhile
        with pytest.raises(MailboxUnavailableError):
            await service.poller.poll_once()
        env.dovecot.start()
        events = await env.events.wait_for(1, within=15)

    assert [(body["reference"], body["status"]) for _, body in events] == [(reference, "resolved")]
    assert env.dovecot.retr_count() == 1


class Crash(Exception):
    """Stands in for the process dying at that point."""


async def test_a_crash_after_the_state_is_written_repeats_no_event(
    inbox_env: InboxEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket_id, reference = new_ticket()
    inbox_env.dovecot.deliver(status_mail(reference, "12345", "В работе"), user=inbox_env.user)
    async with inbox_env.running() as service:
        await inbox_env.teach(service, ticket_id, reference)

    # RETR, status + event written, then the process dies before the UIDL is recorded and
    # before the relay publishes: no QUIT either.
    original: Callable[..., Awaitable[None]] = SeenStore.mark_done

    async def die(self: SeenStore, mailbox: str, uidls: list[str], **kwargs: Any) -> None:
        if uidls:
            raise Crash
        await original(self, mailbox, uidls, **kwargs)

    monkeypatch.setattr(SeenStore, "mark_done", die)
    crashed = inbox_env.build()
    try:
        with pytest.raises(Crash):
            await crashed.poller.poll_once()
    finally:
        await crashed.runtime.mongo.close()
    monkeypatch.undo()
    assert inbox_env.events.received == []

    # The next start publishes the pending event, reads the mail again, and adds nothing.
    async with inbox_env.running() as service:
        report = await service.poller.poll_once()
        events = await inbox_env.events.wait_for(1)

    assert (report.retrieved, report.outcomes["unchanged"]) == (1, 1)
    assert [(body["ticket_id"], body["status"]) for _, body in events] == [
        (ticket_id, "in_progress")
    ]
    assert [s.retr for s in inbox_env.sessions(2)] == [1, 1]


async def test_a_mail_that_breaks_processing_is_quarantined_and_the_rest_still_read(
    inbox_env: InboxEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket_id, reference = new_ticket()
    poison = status_mail(reference, "12345", "Передана подрядчику")  # an unknown status
    fine = status_mail(reference, "12345", "В работе", date="Thu, 26 Nov 2026 11:00 +0300")
    inbox_env.dovecot.deliver_many([poison, fine], user=inbox_env.user)

    def status_key(status: Any, raw_status: str | None) -> str:
        if raw_status == "Передана подрядчику":
            raise RuntimeError("a bug that only this mail reaches")
        return str(status)

    monkeypatch.setattr("helpdesk_inbox.process.status_key", status_key)
    async with inbox_env.running() as service:
        await inbox_env.teach(service, ticket_id, reference)
        report = await service.poller.poll_once()
        events = await inbox_env.events.wait_for(2)
        again = await service.poller.poll_once()

    assert (report.outcomes["quarantined"], report.outcomes["announced"]) == (1, 1)
    assert sorted((key, body.get("reason") or body.get("status")) for key, body in events) == [
        ("inbox.message_unmatched.v1", "unparseable"),
        ("ticket.status_changed.v1", "in_progress"),
    ]
    assert again.new == 0
