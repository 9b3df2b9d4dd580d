"""The broker definitions compose loads set up a broker the services can use with their own
accounts: rendered by deploy/rabbitmq/render-definitions.sh, imported into the real RabbitMQ.

The same document as deploy/rabbitmq/definitions.json, for this test's vhost and with user names
of its own (the broker's users are global), so the import touches nothing of other tests.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import aio_pika
import pytest
from helpdesk_admin.permissions import definitions
from helpdesk_contracts import topology
from helpdesk_contracts.admin import v1 as admin_v1
from helpdesk_harness import admin_keys
from helpdesk_harness.rabbit import MANAGEMENT_URL, RABBIT_PASSWORD, RABBIT_USER, _management
from helpdesk_runtime.broker import create_broker, declare_topology
from helpdesk_runtime.settings import InfraSettings
from pydantic import SecretStr

from tests.support import REPO_ROOT
from tests.support.rabbit_accounts import vhost_of

pytestmark = pytest.mark.integration

RENDER = REPO_ROOT / "deploy" / "rabbitmq" / "render-definitions.sh"


def _post_definitions(document: dict[str, object]) -> None:
    token = base64.b64encode(f"{RABBIT_USER}:{RABBIT_PASSWORD}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 - a fixed http URL on loopback
        f"{MANAGEMENT_URL}/api/definitions",
        method="POST",
        data=json.dumps(document).encode(),
        headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310
        pass


@pytest.fixture
def imported(rabbit_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Import the rendered definitions; yield {user: AMQP URL}; delete the users after."""
    if not _management("GET", "overview"):
        pytest.fail("this test imports definitions through the management API: enable it")
    prefix = f"t{uuid.uuid4().hex[:8]}-"
    document = definitions(
        vhost=vhost_of(rabbit_url),
        user_prefix=prefix,
        operators_user=f"{prefix}ops",
        broker_admin_user=f"{prefix}broker-admin",
    )
    users = [user["name"] for user in document["users"]]
    passwords = {user: uuid.uuid4().hex for user in users}
    (tmp_path / "template.json").write_text(json.dumps(document))
    env = {f"RABBIT_PASSWORD_{u.upper().replace('-', '_')}": p for u, p in passwords.items()}
    done = subprocess.run(
        ["sh", str(RENDER)],
        env={
            "PATH": os.environ["PATH"],
            "HELPDESK_DEFINITIONS_TEMPLATE": str(tmp_path / "template.json"),
            "HELPDESK_DEFINITIONS_RENDERED": str(tmp_path / "rendered.json"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stderr == ""
    _post_definitions(json.loads((tmp_path / "rendered.json").read_text()))
    parts = urlsplit(rabbit_url)
    urls = {
        user: urlunsplit(
            (parts.scheme, f"{quote(user)}:{pw}@{parts.hostname}:{parts.port}", parts.path, "", "")
        )
        for user, pw in passwords.items()
    }
    try:
        yield {user.removeprefix(prefix): url for user, url in urls.items()}
    finally:
        for user in users:
            _management("DELETE", f"users/{quote(user)}")


async def test_services_start_on_the_imported_topology_and_operators_reach_admin_queues(
    imported: dict[str, str], rabbit_url: str
) -> None:
    # Each service logs in with its rendered password and declares only its own part.
    for service in topology.CONSUMERS:
        broker = create_broker(
            InfraSettings(rabbit_url=SecretStr(imported[service])), service=service
        )
        await broker.connect()
        try:
            await declare_topology(broker, only=service)
        finally:
            await broker.stop()
    # The operators' account publishes a command; it lands in auth's admin queue.
    command = admin_keys.sign(admin_v1.RevokeUser(requested_by="ops:test", telegram_user_id=7))
    connection = await aio_pika.connect(imported["ops"])
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        admin = await channel.get_exchange("helpdesk.admin", ensure=False)
        await admin.publish(
            aio_pika.Message(command.model_dump_json().encode()),
            routing_key=command.routing_key,
            mandatory=True,
            timeout=10,
        )
    connection = await aio_pika.connect(rabbit_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(
            topology.queue_name("auth", admin_v1.RevokeUser), passive=True
        )
        assert queue.declaration_result.message_count == 1
        # The delay tiers the definitions declare are each consumer's own.
        for service in topology.CONSUMERS:
            await channel.declare_queue(topology.delay_queue_name(service, 600), passive=True)
