"""A private mongoeco wire server as a process (tests, the sandbox, the benchmark).

The code under test always talks to it through PyMongo's AsyncMongoClient. mongoeco is slow and
single-threaded: keep each test's database small.
"""

from __future__ import annotations

import sys
from pathlib import Path

from helpdesk_harness.procs import ServerProcess, free_port, wait_for_port


class MongoEcoServer:
    """A mongoeco wire server process; restartable on the same port (and file, with SQLite)."""

    def __init__(self, workdir: Path, *, sqlite: bool = False, costs: Path | None = None) -> None:
        self.port = free_port()
        self.sqlite_path = workdir / "mongo.sqlite3" if sqlite else None
        self.costs_path = costs
        argv = [sys.executable, "-m", "helpdesk_harness.mongo_server", "--port", str(self.port)]
        if self.sqlite_path is not None:
            argv += ["--sqlite", str(self.sqlite_path)]
        if costs is not None:
            argv += ["--costs", str(costs)]
        self.process = ServerProcess(argv, log_path=workdir / "mongoeco.log")

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self) -> None:
        self.process.start()
        try:
            wait_for_port(self.port, timeout=30)
        except TimeoutError:
            self.process.stop()
            raise RuntimeError(f"mongoeco did not start:\n{self.process.log_text()}") from None

    def stop(self) -> None:
        self.process.stop()

    def __enter__(self) -> MongoEcoServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
