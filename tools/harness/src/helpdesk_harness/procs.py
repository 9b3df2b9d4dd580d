"""Start and stop foreground server processes the way these machines need.

PID 1 does not reap orphans here, so servers are never allowed to daemonise: each runs in the
foreground as a child in its own session and is stopped by killing that process group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

# Module-level alias: inside ServerProcess the method `signal` shadows the module in defaults.
_SIGKILL = signal.SIGKILL

_FAKETIME_VARS = (
    "FAKETIME",
    "FAKETIME_DONT_FAKE_MONOTONIC",
    "FAKETIME_NO_CACHE",
    "DONT_FAKE_MONOTONIC",
)


def real_clock_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """`env` (default: ours) without libfaketime, for a server that must keep the real clock.

    CI runs the clock-sensitive tests under `faketime '+400 days'` (tests/README.md): the test
    process and the Mongo-wire server are shifted, but Dovecot and slapd stop answering on a shifted
    clock, and their clocks meet no assertion, so they run on the machine's real time.
    """
    clean = dict(os.environ if env is None else env)
    for name in _FAKETIME_VARS:
        clean.pop(name, None)
    preload = [
        lib for lib in clean.pop("LD_PRELOAD", "").split(":") if lib and "faketime" not in lib
    ]
    if preload:
        clean["LD_PRELOAD"] = ":".join(preload)
    return clean


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, *, host: str = "127.0.0.1", timeout: float = 15.0) -> None:
    """Block until something accepts TCP connections on host:port, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s") from None
            time.sleep(0.02)


class ServerProcess:
    """A foreground server child process in its own session (process group)."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        real_clock: bool = False,
    ) -> None:
        """`real_clock`: run on the machine's real time even when the tests run under faketime."""
        self.argv = list(argv)
        self.log_path = log_path
        self.env = real_clock_env(env) if real_clock else env
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError(f"{self.argv[0]} is already running")
        log = self.log_path.open("ab")
        try:
            self.proc = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
            )
        finally:
            log.close()

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError("not started")
        return self.proc.pid

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    def stop(self, *, sig: int = _SIGKILL, timeout: float = 10.0) -> int | None:
        """Signal the whole process group and reap the child; return its exit code."""
        if self.proc is None:
            return None
        self.signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            code = self.proc.wait(timeout=timeout)
        # Reap anything else left in the group (a forked helper) so no zombie outlives the test.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc = None
        return code
