"""RabbitMQ for tests: the machine's broker on 127.0.0.1:5672, one fresh vhost per test or session.

Vhosts are created and deleted through the management HTTP API when the plugin is on (fast;
`.ci/run` enables it), else with `rabbitmqctl` (about 2 s a vhost), so runs never see each
other's queues. The broker itself is started by `.ci/run` (or by hand: `rabbitmq-server -detached`).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import urllib.error
import urllib.request
import uuid
from urllib.parse import quote

RABBIT_HOST = os.environ.get("TEST_RABBIT_HOST", "127.0.0.1")
RABBIT_PORT = int(os.environ.get("TEST_RABBIT_PORT", "5672"))
RABBIT_USER = os.environ.get("TEST_RABBIT_USER", "guest")
RABBIT_PASSWORD = os.environ.get("TEST_RABBIT_PASSWORD", "guest")
MANAGEMENT_URL = os.environ.get("TEST_RABBIT_MANAGEMENT_URL", f"http://{RABBIT_HOST}:15672")


def _management(method: str, path: str, body: dict[str, str] | None = None) -> bool:
    """Call the management API; False when it is not there (plugin off), raise on real errors."""
    token = base64.b64encode(f"{RABBIT_USER}:{RABBIT_PASSWORD}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 - a fixed http URL on loopback
        f"{MANAGEMENT_URL}/api/{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            return True
    except urllib.error.HTTPError:
        raise
    except OSError:
        return False


def _rabbitmqctl(*args: str) -> None:
    exe = shutil.which("rabbitmqctl")
    if exe is None:
        raise RuntimeError("rabbitmqctl not found: install rabbitmq-server (see README)")
    subprocess.run([exe, "-q", *args], check=True, capture_output=True, timeout=60)


def _require_broker() -> None:
    try:
        with socket.create_connection((RABBIT_HOST, RABBIT_PORT), timeout=2):
            return
    except OSError:
        raise RuntimeError(
            f"RabbitMQ is not answering on {RABBIT_HOST}:{RABBIT_PORT}; "
            "start it with `rabbitmq-server -detached` (the README says how)"
        ) from None


class Vhost:
    """A private RabbitMQ virtual host, deleted with everything in it."""

    def __init__(self, prefix: str = "helpdesk-test") -> None:
        self.name = f"{prefix}-{uuid.uuid4().hex[:12]}"

    @property
    def url(self) -> str:
        return (
            f"amqp://{RABBIT_USER}:{RABBIT_PASSWORD}@{RABBIT_HOST}:{RABBIT_PORT}/"
            f"{quote(self.name, safe='')}"
        )

    def create(self) -> None:
        _require_broker()
        vhost = quote(self.name, safe="")
        if _management("PUT", f"vhosts/{vhost}", {}):
            permissions = {"configure": ".*", "write": ".*", "read": ".*"}
            _management("PUT", f"permissions/{vhost}/{quote(RABBIT_USER)}", permissions)
            return
        _rabbitmqctl("add_vhost", self.name)
        _rabbitmqctl("set_permissions", "-p", self.name, RABBIT_USER, ".*", ".*", ".*")

    def delete(self) -> None:
        if not _management("DELETE", f"vhosts/{quote(self.name, safe='')}"):
            _rabbitmqctl("delete_vhost", self.name)
