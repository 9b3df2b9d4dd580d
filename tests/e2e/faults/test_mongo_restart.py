"""The MongoDB wire server restarted in the middle of a run: data kept, services carry on.

This test has a stack of its own whose mongoeco keeps its data in SQLite (the shared stack's
memory engine would forget everything on a restart; SQLite is three times slower, so only
this test pays for it). While employees file tickets, the server is killed with SIGKILL, stays
down `FAULT_MONGO_DOWN_SECONDS` (default 5) and is started again on the same port and file.
No service may die of it; every ticket is emailed and told through "resolved". Copies are
excused only where a write that records a side effect could not reach the database: an email
sent just before or during the outage, a Telegram message likewise (see checks.py).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.faults.broker import dead_letters, wait_all_consumed
from tests.e2e.faults.checks import assert_delivered, wait_until_delivered
from tests.e2e.faults.crowd import crowd, running_stack
from tests.e2e.faults.stack import FaultStack

DOWN_SECONDS = float(os.environ.get("FAULT_MONGO_DOWN_SECONDS", "5"))
PEOPLE = 4
TICKETS = 8

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def sqlite_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    workdir: Path = tmp_path_factory.mktemp("faults-sqlite")
    with running_stack(FaultStack(workdir, people=PEOPLE, mongo_sqlite=True)) as stack:
        yield stack


async def test_services_carry_on_when_mongodb_restarts(sqlite_stack: FaultStack) -> None:
    stack = sqlite_stack
    mongo = stack.sandbox.mongo
    assert mongo is not None and mongo.sqlite_path is not None
    since = datetime.now(UTC)
    async with crowd(stack) as people:
        filing = asyncio.create_task(people.file_tickets(TICKETS, tag="mongo"))
        await asyncio.sleep(4.0)
        down = time.time()
        await asyncio.to_thread(mongo.process.stop)  # SIGKILL: no clean shutdown
        await asyncio.sleep(DOWN_SECONDS)
        await asyncio.to_thread(mongo.start)
        up = time.time()
        filings = await filing
        found = await wait_until_delivered(
            people, since, expected=[f.reference for f in filings], timeout=180
        )
    assert stack.crashed() == [], "a service died of the database restart"
    assert len(found) >= TICKETS
    print(assert_delivered(found, mailer_faults=[(down, up)], gateway_faults=[(down, up)]))
    await asyncio.to_thread(stack.wait_ready)
    url = stack.sandbox.direct_rabbit_url
    await wait_all_consumed(url, timeout=30)
    assert await dead_letters(url) == {}
