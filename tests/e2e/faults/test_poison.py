"""A poison message on every work queue ends in that queue's dead-letter queue; traffic goes on.

One message that no consumer can take — not JSON at all, or JSON of the wrong shape,
alternately — is put straight into each work queue of the topology
(`helpdesk_contracts.topology.all_work_queues()`), while employees file tickets. Each poison
message must turn up in its own `<queue>.dlq`, once, without looping and without stopping the
consumer: every ticket is still emailed and told through "resolved", and every work queue keeps
its consumer.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from helpdesk_contracts import topology

from tests.e2e.faults.broker import (
    dead_letters,
    publish_to_queue,
    take_dead_letters,
    without_consumer,
    work_queue_names,
)
from tests.e2e.faults.checks import assert_delivered, wait_until_delivered
from tests.e2e.faults.crowd import crowd
from tests.e2e.faults.stack import FaultStack

TICKETS = 10
POISONS = (b"this is not json {", b'{"unexpected": "shape", "message_id": 42}')

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


async def test_a_poison_message_on_every_queue_is_dead_lettered(stack: FaultStack) -> None:
    url = stack.sandbox.direct_rabbit_url
    queues = work_queue_names()
    assert len(queues) >= 10
    since = datetime.now(UTC)
    async with crowd(stack) as people:
        filing = asyncio.create_task(people.file_tickets(TICKETS, tag="poison"))
        wanted = {}
        for index, queue in enumerate(queues):
            message_id = f"poison-{uuid.uuid4()}"
            await publish_to_queue(url, queue, POISONS[index % len(POISONS)], message_id)
            wanted[topology.dlq_name(queue)] = message_id
        taken = await take_dead_letters(url, wanted, timeout=60)
        filings = await filing
        found = await wait_until_delivered(
            people, since, expected=[f.reference for f in filings], timeout=120
        )
    assert taken == wanted
    print(assert_delivered(found))
    assert len(found) >= TICKETS
    assert await without_consumer(url) == []
    assert await dead_letters(url) == {}
