"""The SMTP relay down for 30 s, then the POP3 mailbox down for 30 s, while tickets are filed.

1. SMTP down (`FAULT_SMTP_DOWN_SECONDS`, default 30): tickets filed now cannot be emailed. Each
   employee is told once that the ticket is delayed, the mailer retries through the broker's
   delay tiers, and once the relay is back every ticket is emailed — once — and its employee is
   told it was sent. Nothing reaches the sink while it is down.
2. POP3 down (`FAULT_POP3_DOWN_SECONDS`, default 30), starting as SMTP comes back: the emails go
   out and InfraManager (the simulator) answers into the mailbox, but the inbox cannot read it;
   more tickets are filed meanwhile. No status reaches anyone while the mailbox is down; once it
   is back every status arrives, none twice.

The two outages run back to back in one test (half the waiting of two tests; CI time matters).
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime

import pytest
from helpdesk_harness.employees.people import Kind

from tests.e2e.faults.broker import dead_letters
from tests.e2e.faults.checks import STATUS_OF, assert_delivered, wait_until_delivered
from tests.e2e.faults.crowd import crowd
from tests.e2e.faults.stack import FaultStack

SMTP_DOWN = float(os.environ.get("FAULT_SMTP_DOWN_SECONDS", "30"))
POP3_DOWN = float(os.environ.get("FAULT_POP3_DOWN_SECONDS", "30"))
TICKETS = 10
GRACE = 3.0
"""Seconds after a stop in which work already under way may still finish."""

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


async def test_smtp_then_pop3_down_for_a_while(stack: FaultStack) -> None:
    sandbox = stack.sandbox
    assert sandbox.smtp is not None and sandbox.dovecot is not None
    smtp, dovecot = sandbox.smtp, sandbox.dovecot
    since = datetime.now(UTC)
    async with crowd(stack) as people:
        await asyncio.to_thread(smtp.stop)
        smtp_down = time.time()
        first = await people.file_tickets(TICKETS, tag="smtp-down")
        await asyncio.sleep(SMTP_DOWN - (time.time() - smtp_down))

        await asyncio.to_thread(dovecot.stop)
        pop3_down = time.time()
        await asyncio.to_thread(smtp.start)
        smtp_up = time.time()
        second = await people.file_tickets(TICKETS, tag="pop3-down")
        await asyncio.sleep(POP3_DOWN - (time.time() - pop3_down))
        await asyncio.to_thread(dovecot.start)
        pop3_up = time.time()

        found = await wait_until_delivered(
            people, since, expected=[f.reference for f in first + second], timeout=120
        )
    assert len(found) >= 2 * TICKETS
    print(assert_delivered(found))

    delayed = [found[f.reference] for f in first]
    assert all(t.emails[0].at > smtp_up for t in delayed), "mail reached a stopped SMTP sink"
    for trail in delayed:
        retrying, emailed = trail.notices.get(Kind.EMAIL_RETRYING, []), trail.notices[Kind.EMAILED]
        assert len(retrying) == 1, f"{trail.reference}: told of the delay {len(retrying)} times"
        assert retrying[0] < emailed[0]

    statuses = [
        moment
        for trail in found.values()
        for kind in STATUS_OF.values()
        for moment in trail.notices.get(kind, [])
    ]
    assert not [m for m in statuses if pop3_down + GRACE < m < pop3_up], "read a stopped mailbox"
    # The outage mattered: InfraManager's answers to the second batch waited in the mailbox.
    assert all(found[f.reference].notices[Kind.RESOLVED][0] > pop3_up for f in second)
    assert await dead_letters(sandbox.direct_rabbit_url) == {}
