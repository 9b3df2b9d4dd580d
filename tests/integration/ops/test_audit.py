"""Every admin command a service receives leaves an audit line, whoever handles it and however.

The middleware is exercised on the real broker with the service broker's configuration.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from faststream.rabbit import RabbitBroker
from helpdesk_contracts.admin import v1 as admin_v1
from helpdesk_runtime.audit import AdminAuditMiddleware, audit_fields
from helpdesk_runtime.broker import Publisher, declare_topology, subscriber

pytestmark = pytest.mark.integration


def test_only_admin_commands_are_audited() -> None:
    body = admin_v1.RunJanitor(requested_by="ops:ivanov").model_dump_json().encode()
    assert audit_fields("helpdesk.admin", "admin.run_janitor.v1", body) == {
        "audit": True,
        "command": "admin.run_janitor.v1",
        "requested_by": "ops:ivanov",
    }
    assert audit_fields("helpdesk.events", "ticket.rated.v1", b"{}") == {}
    assert audit_fields("helpdesk.admin", "admin.broadcast.v1", b"not json") == {
        "audit": True,
        "command": "admin.broadcast.v1",
        "requested_by": None,
    }


async def test_a_received_admin_command_is_logged_with_its_requester(
    rabbit_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    broker = RabbitBroker(rabbit_url, middlewares=(AdminAuditMiddleware,))

    @subscriber(broker, "janitor", admin_v1.RunJanitor)
    async def run(command: admin_v1.RunJanitor) -> None:
        raise RuntimeError("the handler fails: the command is audited anyway")

    await broker.connect()
    await declare_topology(broker)
    await broker.start()
    try:
        with caplog.at_level(logging.INFO, logger="helpdesk.audit"):
            command = admin_v1.RunJanitor(requested_by="ops:ivanov", dry_run=True)
            await Publisher(broker, timeout=5).publish(command)
            for _ in range(200):
                if any(r.name == "helpdesk.audit" for r in caplog.records):
                    break
                await asyncio.sleep(0.05)
    finally:
        await broker.stop()
    [record] = [r for r in caplog.records if r.name == "helpdesk.audit"]
    assert record.getMessage() == "admin command received"
    assert record.__dict__["requested_by"] == "ops:ivanov"
    assert record.__dict__["command"] == "admin.run_janitor.v1"
    assert record.__dict__["audit"] is True
