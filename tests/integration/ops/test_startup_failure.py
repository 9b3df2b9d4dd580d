"""A service that cannot start says so in one JSON log line and exits 1: no raw traceback.

What a log collector reading `docker logs` gets when MongoDB is down at start-up. The service
is the real mailer, started as a process the way its image starts it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.procs import free_port
from tests.support.services import REPO_ROOT

pytestmark = pytest.mark.integration


def test_mongodb_down_at_start_up_is_one_json_line_and_exit_1() -> None:
    dead = free_port()  # nothing listens there: MongoDB is down
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_", "MAILER_"))}
    env.update(
        HELPDESK_MONGO_URL=f"mongodb://127.0.0.1:{dead}/",
        HELPDESK_MONGO_TIMEOUT_MS="500",
        HELPDESK_RABBIT_URL=f"amqp://guest:guest@127.0.0.1:{dead}/",
        MAILER_SMTP_HOST="127.0.0.1",
        MAILER_FROM_ADDRESS="helpdesk-bot@example.com",
        MAILER_TICKET_TO="itsm@example.com",
    )
    done = subprocess.run(
        [sys.executable, "-m", "helpdesk_mailer"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    lines = [json.loads(line) for line in (done.stdout + done.stderr).splitlines()]
    assert all(line["service"] == "mailer" for line in lines)
    said = [(line["level"], line["message"]) for line in lines]
    assert ("error", "MongoDB does not answer: ServerSelectionTimeoutError") in said
    last = lines[-1]
    assert (last["level"], last["message"]) == ("critical", "cannot run, stopping")
    assert "ServerSelectionTimeoutError" in last["exc"]
