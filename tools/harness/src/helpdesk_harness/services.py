"""Run the services the way ops do: as OS processes configured only through the environment."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from helpdesk_contracts.topology import Consumer

from helpdesk_harness.procs import ServerProcess, free_port

SERVICES: tuple[Consumer, ...] = ("gateway", "auth", "mailer", "inbox", "janitor")


def infra_env(*, rabbit_url: str, mongo_url: str, mongo_db: str) -> dict[str, str]:
    """The HELPDESK_* settings every service reads."""
    return {
        "HELPDESK_RABBIT_URL": rabbit_url,
        "HELPDESK_MONGO_URL": mongo_url,
        "HELPDESK_MONGO_DB": mongo_db,
        "HELPDESK_LOG_FORMAT": "json",
        "HELPDESK_LOG_LEVEL": "INFO",
    }


class ServiceProcess:
    """One service started as `python -m helpdesk_<name>`, with JSON logs in a file."""

    def __init__(
        self, name: str, env: Mapping[str, str], workdir: Path, *, cwd: Path | None = None
    ) -> None:
        if name not in SERVICES:
            raise ValueError(f"unknown service {name}")
        self.name = name
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_",))}
        full_env.update(env)
        if not full_env.get("HELPDESK_HTTP_PORT"):
            full_env["HELPDESK_HTTP_PORT"] = str(free_port())
        self.http_port = int(full_env["HELPDESK_HTTP_PORT"])
        self.process = ServerProcess(
            [sys.executable, "-m", f"helpdesk_{name}"],
            log_path=workdir / f"{name}.log",
            env=full_env,
            cwd=cwd,
        )

    @property
    def http_base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def log_lines(self) -> list[dict[str, Any]]:
        lines = []
        for raw in self.process.log_text().splitlines():
            try:
                lines.append(json.loads(raw))
            except json.JSONDecodeError:
                lines.append({"message": raw, "level": "raw"})
        return lines

    def logged(self, message: str) -> bool:
        return any(line.get("message") == message for line in self.log_lines())

    # Importing aiogram alone takes 20 s of wall time on a busy 2-core machine.
    def start(self, *, wait: bool = True, timeout: float = 90.0) -> None:
        self.process.start()
        if wait:
            self.wait_for_log("started", timeout=timeout)

    def wait_for_log(self, message: str, *, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.logged(message):
            if not self.process.running():
                raise RuntimeError(f"{self.name} exited:\n{self.process.log_text()}")
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{self.name} never logged {message!r}:\n{self.process.log_text()}"
                )
            time.sleep(0.05)

    def terminate(self, timeout: float = 30.0) -> int | None:
        """SIGTERM and wait: the graceful path ops use."""
        return self.process.stop(sig=signal.SIGTERM, timeout=timeout)

    def kill(self) -> None:
        self.process.stop(sig=signal.SIGKILL)
