"""The mailer process killed with SIGKILL in the middle of a burst of tickets, then restarted.

Every ticket must be delivered; a ticket may arrive twice only if it was in flight at the kill
(its record says `sending` was claimed more than once), and the two copies are the same email
(same Message-ID, same bytes), which InfraManager de-duplicates.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from helpdesk_contracts import topology
from helpdesk_contracts.ticket.v1 import TicketEmailed
from helpdesk_harness.service_env import extra_env
from helpdesk_harness.services import ServiceProcess, infra_env
from helpdesk_harness.smtp_sink import CapturedMail, SmtpSink
from pymongo.asynchronous.database import AsyncDatabase

from tests.unit.mailer import factories as f

pytestmark = pytest.mark.integration

TICKETS = 200
KILL_AFTER = 60  # emails captured before the kill


def ticket_ids() -> list[str]:
    return [f"6745a1f2c3d4e5f6{i:08x}" for i in range(TICKETS)]


async def test_sigkill_in_the_middle_of_200_tickets_loses_none(
    rabbit_url: str,
    mongo_url: str,
    mongo_db: AsyncDatabase[dict[str, Any]],
    smtp_sink: SmtpSink,
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    env = infra_env(rabbit_url=rabbit_url, mongo_url=mongo_url, mongo_db=mongo_db.name)
    env.update(extra_env("mailer", tmp_path))
    env.update(
        {
            "MAILER_SMTP_HOST": smtp_sink.host,
            "MAILER_SMTP_PORT": str(smtp_sink.port),
            "MAILER_FROM_ADDRESS": f.BOT,
            "MAILER_TICKET_TO": f.ITSM,
            "MAILER_RETRY_BASE_SECONDS": "1",
            # A killed process's lease on its in-flight mails expires quickly in this test.
            "MAILER_SEND_LEASE_SECONDS": "1",
        }
    )
    # Each DATA answered a little later, so the kill finds mails in the middle of SMTP.
    smtp_sink.delay(0.005)
    mailer = ServiceProcess("mailer", env, tmp_path)
    mailer.start()  # declares the topology
    connection = await aio_pika.connect(rabbit_url)
    try:
        async with connection:
            channel = await connection.channel()
            emailed = await channel.declare_queue(exclusive=True, auto_delete=True)
            await emailed.bind(topology.EVENTS.name, routing_key=TicketEmailed.routing_key)
            exchange = await channel.get_exchange(topology.EVENTS.name, ensure=False)
            tickets = {
                ticket_id: f.ticket(ticket_id=ticket_id, description=f"#{n}")
                for n, ticket_id in enumerate(ticket_ids())
            }
            for ticket in tickets.values():
                await exchange.publish(
                    aio_pika.Message(
                        ticket.model_dump_json().encode(),
                        message_id=str(ticket.message_id),
                        content_type="application/json",
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    ),
                    routing_key=ticket.routing_key,
                )

            await smtp_sink.await_messages(KILL_AFTER, timeout=30)
            mailer.kill()
            at_kill = len(smtp_sink.messages)
            assert at_kill < TICKETS, "the burst was over before the kill; raise TICKETS"
            mailer.start(wait=False)

            delivered = await _until_all_delivered(smtp_sink, set(tickets), within=45)
            events = await _emailed_events(emailed, set(tickets), within=20)
    finally:
        mailer.terminate()

    copies: defaultdict[str, list[bytes]] = defaultdict(list)
    for mail in delivered:
        ticket_id = mail.message["X-Helpdesk-Ticket-Id"]
        ticket = tickets[ticket_id]
        assert mail.message["Message-ID"] == f"<{ticket.reference}.{ticket_id}@corp.example>"
        copies[ticket_id].append(mail.raw)
    assert set(copies) == set(tickets)
    duplicated = {ticket_id for ticket_id, raws in copies.items() if len(raws) > 1}
    for ticket_id in duplicated:
        assert len(set(copies[ticket_id])) == 1, "a duplicate must be the very same email"

    records = {doc["_id"]: doc async for doc in mongo_db["outgoing_mail"].find()}
    assert {doc["state"] for doc in records.values()} == {"sent"}
    reclaimed = {key.removeprefix("ticket:") for key, doc in records.items() if doc["attempts"] > 1}
    # Only mails in flight at the kill were claimed again, and only they may come twice.
    assert duplicated <= reclaimed
    assert len(reclaimed) <= 16  # at most the prefetch window was in flight
    assert set(events) == set(tickets)
    print(
        f"\n{TICKETS} tickets, killed after {at_kill} emails, {len(reclaimed)} in flight, "
        f"{len(duplicated)} duplicated, {time.monotonic() - started:.1f}s"
    )


async def _until_all_delivered(
    sink: SmtpSink, expected: set[str], within: float
) -> list[CapturedMail]:
    deadline = time.monotonic() + within
    while True:
        mails = sink.messages
        seen = {mail.message["X-Helpdesk-Ticket-Id"] for mail in mails}
        if seen >= expected:
            return mails
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(expected - seen)} of {len(expected)} tickets never arrived")
        await asyncio.sleep(0.1)


async def _emailed_events(
    queue: aio_pika.abc.AbstractQueue, expected: set[str], within: float
) -> Counter[str]:
    """TicketEmailed per ticket (a relay crash may publish one twice; consumers de-duplicate)."""
    deadline = time.monotonic() + within
    seen: Counter[str] = Counter()
    while set(seen) < expected:
        incoming = await queue.get(no_ack=True, fail=False)
        if incoming is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(expected - set(seen))} TicketEmailed never published")
            await asyncio.sleep(0.1)
            continue
        seen[json.loads(incoming.body)["ticket_id"]] += 1
    return seen
