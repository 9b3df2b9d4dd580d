"""RabbitMQ gone for 20 s in the middle of a run, then back: the services reconnect by themselves.

The machine's broker is shared, so the outage is staged with the test's TCP proxy, which every
service's connection goes through: all connections are dropped and new ones refused for
`FAULT_RABBIT_DOWN_SECONDS` (default 20), as a broker restart looks to a client. Employees file
tickets meanwhile (the wizard and Send need no broker: Send writes the ticket and its event in
one MongoDB document), and more once it is back. During the outage every service reports not
ready and the broker sees no consumers; afterwards every service is ready again, every work
queue has its consumer again (seen from the broker), and every ticket is emailed and told
through "resolved" — those sent during the outage only after it — nothing twice, nothing
dead-lettered.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime

import pytest

from tests.e2e.faults.broker import dead_letters, wait_all_consumed, without_consumer
from tests.e2e.faults.checks import assert_delivered, wait_until_delivered
from tests.e2e.faults.crowd import crowd
from tests.e2e.faults.stack import FaultStack

DOWN_SECONDS = float(os.environ.get("FAULT_RABBIT_DOWN_SECONDS", "20"))
TICKETS = 10

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


async def test_services_reconnect_after_the_broker_was_gone_for_a_while(stack: FaultStack) -> None:
    since = datetime.now(UTC)
    url = stack.sandbox.direct_rabbit_url
    assert await without_consumer(url) == []
    async with crowd(stack) as people:
        down_at, down_wall = time.monotonic(), time.time()
        dropped = stack.proxy.cut()
        # Every service held a connection; now none does, and the broker sees no consumers.
        assert dropped >= len(stack.sandbox.services)
        # Employees go on filing tickets: the wizard and Send need MongoDB, not the broker.
        during = asyncio.create_task(people.file_tickets(TICKETS, tag="broker-down"))
        await asyncio.sleep(3.0)
        assert await without_consumer(url) != []
        answers = [await asyncio.to_thread(stack.ready, name) for name in stack.sandbox.services]
        assert not any(ready for ready, _ in answers), f"ready without a broker: {answers}"
        await asyncio.sleep(DOWN_SECONDS - (time.monotonic() - down_at))
        stack.proxy.restore()
        up_wall = time.time()

        await wait_all_consumed(url, timeout=60)
        await asyncio.to_thread(stack.wait_ready, None, 60.0)
        filed = await during
        filed += await people.file_tickets(TICKETS // 2, tag="broker-back")
        found = await wait_until_delivered(
            people, since, expected=[f.reference for f in filed], timeout=120
        )
    assert len(found) >= TICKETS + TICKETS // 2
    print(assert_delivered(found))
    # Tickets sent while the broker was gone waited (in MongoDB) and went out once it was back.
    waited = [f.reference for f in filed if down_wall < f.sent_wall < up_wall]
    assert waited, "no ticket was sent during the outage: the test proved nothing"
    assert all(found[ref].emails[0].at > up_wall for ref in waited)
    assert await dead_letters(url) == {}
