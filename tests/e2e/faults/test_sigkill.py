"""SIGKILL of the mailer, the inbox and the gateway at random moments while tickets are filed.

`FAULT_TICKETS` tickets are filed by `FAULT_PEOPLE` employees at once (default 10). Meanwhile
each of the three services is killed with SIGKILL — in rounds of a random order, at random
moments, up to `FAULT_KILLS` times each (default 2; at least once, later rounds only while
tickets are still being filed) — and started again at once. Then every ticket must be emailed
and every status told to its employee (see checks.py: "sent to IT support", resolved, and every
status the gateway decided to tell). Copies are allowed only inside the documented windows: the
same email (same Message-ID, same bytes) when the mailer was killed between SMTP and recording
it, the same Telegram message when the gateway was killed between sending it and recording it.
A status told twice for any other reason — the inbox reading a mail again after its restart, an
event redelivered — fails the test, and so does anything left in a dead-letter queue.

The issue asks for 200 tickets. The CI default is 100 (`FAULT_TICKETS`), which keeps all fault
tests together at about four minutes on a 2-core machine; 200 adds about 40 s (the kills, not
the tickets, set most of this test's length):

    FAULT_TICKETS=200 uv run pytest tests/e2e/faults/test_sigkill.py

The run is reproducible from its seed (printed; set `FAULT_SEED`).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from datetime import UTC, datetime

import pytest
from helpdesk_harness.employees.people import Filing

from tests.e2e.faults.broker import dead_letters, wait_all_consumed
from tests.e2e.faults.checks import Fault, assert_delivered, wait_until_delivered
from tests.e2e.faults.crowd import Crowd, crowd
from tests.e2e.faults.stack import FaultStack

TICKETS = int(os.environ.get("FAULT_TICKETS", "100"))
KILLS = int(os.environ.get("FAULT_KILLS", "2"))
VICTIMS = ("mailer", "inbox", "gateway")

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


async def chaos(
    stack: FaultStack, people: Crowd, rng: random.Random, filing: asyncio.Task[list[Filing]]
) -> dict[str, list[Fault]]:
    """Kill each victim up to KILLS times (at least once), in rounds of a random order at random
    moments, while tickets are being filed; restart each at once."""
    plan = [name for _ in range(KILLS) for name in rng.sample(VICTIMS, len(VICTIMS))]
    faults: dict[str, list[Fault]] = {name: [] for name in VICTIMS}
    for number, name in enumerate(plan):
        if filing.done() and number >= len(VICTIMS):
            break
        await asyncio.sleep(rng.uniform(2.0, 6.0))
        if name == "gateway":
            people.gateway.down()
        at = time.time()
        await asyncio.to_thread(stack.kill, name)
        faults[name].append((at, at))
        await asyncio.sleep(rng.uniform(0.0, 1.0))
        await asyncio.to_thread(stack.start_service, name)
        if name == "gateway":
            people.gateway.up()
    return faults


async def test_sigkill_mailer_inbox_and_gateway_during_a_run_of_tickets(
    stack: FaultStack,
) -> None:
    seed = int(os.environ.get("FAULT_SEED") or time.time_ns() % 1_000_000)
    print(f"FAULT_SEED={seed} FAULT_TICKETS={TICKETS} FAULT_KILLS={KILLS}")
    rng = random.Random(seed)
    since = datetime.now(UTC)
    started = time.monotonic()
    async with crowd(stack) as people:
        filing = asyncio.create_task(people.file_tickets(TICKETS, tag="sigkill"))
        faults = await chaos(stack, people, rng, filing)
        filings = await filing
        print(f"filed {len(filings)} tickets in {time.monotonic() - started:.0f}s")
        assert len({f.reference for f in filings}) == TICKETS
        found = await wait_until_delivered(
            people, since, expected=[f.reference for f in filings], timeout=240
        )
    print(f"delivered after {time.monotonic() - started:.0f}s")
    print(f"recoveries by employees: {sum(f.recoveries for f in filings)}; faults: {faults}")
    assert len(found) >= TICKETS
    print(assert_delivered(found, mailer_faults=faults["mailer"], gateway_faults=faults["gateway"]))
    await asyncio.to_thread(stack.wait_ready)
    url = stack.sandbox.direct_rabbit_url
    await wait_all_consumed(url, timeout=30)
    assert await dead_letters(url) == {}
