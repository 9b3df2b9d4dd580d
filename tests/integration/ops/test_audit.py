"""Every admin command a service receives leaves an audit line, whoever handles it and however.

The guard is exercised on the real broker with the service broker's configuration.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from helpdesk_contracts.admin import v1 as admin_v1
from helpdesk_harness import admin_keys
from helpdesk_runtime.broker import (
    Publisher,
    create_broker,
    declare_topology,
    subscriber,
)
from helpdesk_runtime.settings import InfraSettings
from pydantic import SecretStr

pytestmark = pytest.mark.integration


async def test_a_received_admin_command_is_logged_with_its_requester_and_key(
    rabbit_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    broker = create_broker(
        InfraSettings(rabbit_url=SecretStr(rabbit_url)),
        service="janitor",
        guard=admin_keys.guard("janitor"),
    )

    @subscriber(broker, "janitor", admin_v1.RunJanitor)
    async def run(command: admin_v1.RunJanitor) -> None:
        raise RuntimeError("the handler fails: the command is audited anyway")

    await broker.connect()
    await declare_topology(broker)
    await broker.start()
    try:
        with caplog.at_level(logging.INFO, logger="helpdesk.audit"):
            command = admin_keys.sign(admin_v1.RunJanitor(requested_by="ops:ivanov", dry_run=True))
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
    assert record.__dict__["key"] == admin_keys.KEY_NAME
    assert record.__dict__["verdict"] == "accepted"
    assert record.__dict__["exchange"] == "helpdesk.admin"
    assert record.__dict__["audit"] is True
