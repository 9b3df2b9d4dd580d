"""A service that cannot start says so in one JSON log line and exits 1: no raw traceback.

What a log collector reading `docker logs` gets when MongoDB is down at start-up. The service
is the real mailer, started as a process the way its image starts it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpdesk_harness.procs import free_port

from tests.support import REPO_ROOT

pytestmark = pytest.mark.integration


def run_mailer(**settings: str) -> subprocess.CompletedProcess[str]:
    dead = free_port()  # nothing listens there: MongoDB and RabbitMQ are down
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_", "MAILER_"))}
    env.update(
        HELPDESK_MONGO_URL=f"mongodb://127.0.0.1:{dead}/",
        HELPDESK_MONGO_TIMEOUT_MS="500",
        HELPDESK_RABBIT_URL=f"amqp://guest:guest@127.0.0.1:{dead}/",
        MAILER_SMTP_HOST="127.0.0.1",
        MAILER_FROM_ADDRESS="helpdesk-bot@example.com",
        MAILER_TICKET_TO="itsm@example.com",
        **settings,
    )
    return subprocess.run(
        [sys.executable, "-m", "helpdesk_mailer"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_broken_template_stops_the_build_of_the_app_in_one_json_line(tmp_path: Path) -> None:
    """The app factory itself fails (before any connection): still one line, exit 1."""
    (tmp_path / "ticket").mkdir()
    (tmp_path / "ticket" / "subject.txt.j2").write_text("{{ reference ")
    done = run_mailer(MAILER_TEMPLATES_DIR=str(tmp_path))
    assert done.returncode == 1
    lines = [json.loads(line) for line in (done.stdout + done.stderr).splitlines()]
    assert len(lines) == 1
    assert (lines[0]["service"], lines[0]["level"]) == ("mailer", "critical")
    assert "template ticket/subject.txt.j2" in lines[0]["exc"]


def test_mongodb_down_at_start_up_is_one_json_line_and_exit_1() -> None:
    done = run_mailer()
    assert done.returncode == 1
    lines = [json.loads(line) for line in (done.stdout + done.stderr).splitlines()]
    assert all(line["service"] == "mailer" for line in lines)
    said = [(line["level"], line["message"]) for line in lines]
    assert ("error", "MongoDB does not answer: ServerSelectionTimeoutError") in said
    last = lines[-1]
    assert (last["level"], last["message"]) == ("critical", "cannot run, stopping")
    assert "ServerSelectionTimeoutError" in last["exc"]
