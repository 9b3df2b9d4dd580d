"""What a fault run must leave behind, checked from the outside.

For every ticket the gateway stored (its `tickets` collection is the record of what employees
submitted):
- the email at the SMTP sink;
- every notification InfraManager (the simulator) wrote into the mailbox was read and matched
  by the inbox (its UIDL is done in `inbox_seen`, nothing in `inbox_quarantine`): none lost;
- "resolved", the newest news, is in the ticket's history and was told to the employee;
- the employee was told "sent to IT support" and every status the gateway decided to tell
  (`applied_events[].notify` of the ticket), and no status it decided not to tell. News older
  than news already known is not told by design: after a crash or an outage the notifications
  of a ticket can be read in one go, and "registered" read after "in progress" is history at
  most (the inbox drops it as stale, or the gateway keeps it untold).

Duplicates are allowed only where the design admits them, and only next to a fault that can
cause them:
- the mailer records "sent" after SMTP accepted the message; killed (or cut off from MongoDB) in
  between, it sends the same email again: same Message-ID, same bytes;
- the gateway marks a notification sent after Telegram accepted it; killed (or cut off from
  MongoDB) in between, it sends that message again.

A copy is excused only if the first one was made during such a fault or at most `window`
seconds before it. Anything else twice (a status re-announced because the inbox read a mail
again, an event redelivered after a broker outage) is a failure.
"""

from __future__ import annotations

import asyncio
import poplib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from helpdesk_harness.employees.mail import Arrived
from helpdesk_harness.employees.people import REFERENCE, Kind
from helpdesk_harness.pop3_server import DovecotServer
from pymongo import AsyncMongoClient

from tests.e2e.faults.crowd import Crowd

WINDOW_SECONDS = 5.0
STATUS_OF = {
    "registered": Kind.REGISTERED,
    "in_progress": Kind.IN_PROGRESS,
    "resolved": Kind.RESOLVED,
}
TOLD = (Kind.EMAILED, *STATUS_OF.values())


@dataclass
class Trail:
    """One ticket as the outside world saw it."""

    reference: str
    chat_id: int
    statuses: set[Kind]
    """Statuses in the ticket's history (applied by the gateway)."""
    to_tell: set[Kind]
    """Statuses the gateway decided to tell the employee."""
    emails: list[Arrived] = field(default_factory=list)
    notices: dict[Kind, list[float]] = field(default_factory=dict)
    """Wall-clock times the bot's messages of each kind about this ticket reached Telegram."""

    def missing(self) -> list[str]:
        gaps = [] if self.emails else ["email"]
        gaps += [] if Kind.RESOLVED in self.statuses else ["resolved (history)"]
        wanted = {Kind.EMAILED, Kind.RESOLVED} | self.to_tell
        return gaps + [f"{k.value} (chat)" for k in TOLD if k in wanted and not self.notices.get(k)]

    def complete(self) -> bool:
        return not self.missing()


async def stored_tickets(crowd: Crowd, since: datetime) -> list[dict[str, Any]]:
    """The tickets the crowd's people submitted since `since`, as the gateway stored them."""
    sandbox = crowd.stack.sandbox
    users = [e.user.id for e in crowd.employees]
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(sandbox.mongo_url, tz_aware=True)
    try:
        cursor = client[sandbox.mongo_db]["tickets"].find(
            {"user_id": {"$in": users}, "submitted_at": {"$gte": since}},
            {"reference": 1, "chat_id": 1, "history": 1, "applied_events": 1},
        )
        return [doc async for doc in cursor]
    finally:
        await client.close()


def _trail(doc: dict[str, Any]) -> Trail:
    notify = {str(e["id"]): bool(e.get("notify")) for e in doc.get("applied_events") or []}
    statuses: set[Kind] = set()
    to_tell: set[Kind] = set()
    for entry in doc.get("history") or []:
        kind = STATUS_OF.get(str(entry.get("status")))
        if kind is not None:
            statuses.add(kind)
            if notify.get(str(entry.get("message_id"))):
                to_tell.add(kind)
    return Trail(str(doc["reference"]), int(doc["chat_id"]), statuses, to_tell)


async def unread_mail(crowd: Crowd) -> list[str]:
    """Mail in the helpdesk mailbox the inbox has not finished with (or quarantined)."""
    sandbox = crowd.stack.sandbox
    assert sandbox.dovecot is not None
    listed = await asyncio.to_thread(_uidls, sandbox.dovecot)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(sandbox.mongo_url, tz_aware=True)
    try:
        db = client[sandbox.mongo_db]
        seen = await db["inbox_seen"].find_one({}) or {}
        quarantined = [f"quarantined {d.get('_id')}" async for d in db["inbox_quarantine"].find()]
    finally:
        await client.close()
    done = set(seen.get("uidls") or ())
    return [f"unread {uidl}" for uidl in listed if uidl not in done] + quarantined


def _uidls(dovecot: DovecotServer) -> list[str]:
    pop = poplib.POP3(dovecot.host, dovecot.pop3_port, timeout=10)
    try:
        pop.user(dovecot.user)
        pop.pass_(dovecot.password)
        return [line.split()[1].decode() for line in pop.uidl()[1]]
    finally:
        pop.quit()


async def trails(crowd: Crowd, docs: list[dict[str, Any]]) -> dict[str, Trail]:
    crowd.spool.refresh()
    found = {trail.reference: trail for trail in map(_trail, docs)}
    for ref, trail in found.items():
        trail.emails = list(crowd.spool.tickets.get(ref, []))
    for call in await crowd.tg.calls("sendMessage"):
        text = str(call.params.get("text", ""))
        match = REFERENCE.search(text)
        if not call.ok or match is None or match.group(0) not in found:
            continue
        kind = crowd.texts.kind(text)
        if kind is not Kind.OTHER:
            found[match.group(0)].notices.setdefault(kind, []).append(call.time)
    return found


async def wait_until_delivered(
    crowd: Crowd,
    since: datetime,
    *,
    expected: Iterable[str],
    timeout: float,  # noqa: ASYNC109
) -> dict[str, Trail]:
    """Poll until every stored ticket is emailed, resolved and told, or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        found = await trails(crowd, await stored_tickets(crowd, since))
        lost = set(expected) - found.keys()
        assert not lost, f"tickets employees were told about are not stored: {sorted(lost)}"
        if all(t.complete() for t in found.values()):
            unread = await unread_mail(crowd)
            if not unread:
                return found
        if time.monotonic() > deadline:
            unread = await unread_mail(crowd)
            assert not unread, f"InfraManager's mail not dealt with: {unread}"
            return found
        await asyncio.sleep(1.0)


Fault = tuple[float, float]
"""A fault's start and end on the wall clock (a kill: the same moment twice)."""


AFTERMATH_SECONDS = 1.0
"""What a killed process wrote just before it died still reaches its peer after the kill: the
SMTP sink (or the fake Bot API) finishes reading a DATA (a request) the kernel had buffered."""


def excused(first: float, faults: Iterable[Fault], window: float = WINDOW_SECONDS) -> bool:
    """A copy is excused when the first one was made during a fault or `window` s before it
    (or in the moment after it, see AFTERMATH_SECONDS)."""
    return any(start - window <= first <= end + AFTERMATH_SECONDS for start, end in faults)


def assert_delivered(
    found: dict[str, Trail],
    *,
    mailer_faults: Iterable[Fault] = (),
    gateway_faults: Iterable[Fault] = (),
) -> str:
    """Every ticket emailed and told; copies only as the module docstring allows. Returns a
    line saying what was excused or superseded (for the test's output)."""
    mailer_faults, gateway_faults = list(mailer_faults), list(gateway_faults)
    incomplete = {ref: t.missing() for ref, t in found.items() if not t.complete()}
    assert not incomplete, f"{len(incomplete)} of {len(found)} tickets incomplete: {incomplete}"
    problems: list[str] = []
    copies = {"emails": 0, "messages": 0}
    for ref, trail in sorted(found.items()):
        first = trail.emails[0]
        copies["emails"] += len(trail.emails) - 1
        copies["messages"] += sum(len(times) - 1 for times in trail.notices.values())
        for copy in trail.emails[1:]:
            if copy.mail.message_id != first.mail.message_id or copy.mail.raw != first.mail.raw:
                problems.append(f"{ref}: a second, different email")
            elif not excused(first.at, mailer_faults):
                problems.append(f"{ref}: emailed twice with no mailer fault just after the first")
        for kind, times in trail.notices.items():
            if kind in STATUS_OF.values() and kind not in trail.to_tell:
                problems.append(f"{ref}: {kind.value} told although the gateway decided not to")
            for earlier in sorted(times)[:-1]:
                if not excused(earlier, gateway_faults):
                    problems.append(f"{ref}: {kind.value} told {len(times)} times")
    assert not problems, "\n".join(problems)
    untold = sum(len(set(STATUS_OF.values()) - t.notices.keys()) for t in found.values())
    return (
        f"{len(found)} tickets; excused copies: {copies['emails']} emails, "
        f"{copies['messages']} Telegram messages; older statuses superseded, not told: {untold}"
    )
