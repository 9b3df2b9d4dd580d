"""MongoDB for tests: the real server in MONGO_URL if set, else a private mongoeco process.

The code under test always talks to it through PyMongo's AsyncMongoClient. mongoeco is slow and
single-threaded, so every test gets its own small database (`mongo_db_name`).
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.procs import ServerProcess, free_port, wait_for_port

REPO_ROOT = Path(__file__).resolve().parents[2]

Document = dict[str, Any]


class MongoEcoServer:
    """A mongoeco wire server process; restartable on the same port (and file, with SQLite)."""

    def __init__(self, workdir: Path, *, sqlite: bool = False) -> None:
        self.port = free_port()
        self.sqlite_path = workdir / "mongo.sqlite3" if sqlite else None
        argv = [sys.executable, "-m", "tests.support.mongo_server", "--port", str(self.port)]
        if self.sqlite_path is not None:
            argv += ["--sqlite", str(self.sqlite_path)]
        self.process = ServerProcess(argv, log_path=workdir / "mongoeco.log", cwd=REPO_ROOT)

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


@pytest.fixture(scope="session")
def mongo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of the MongoDB server for this test session."""
    if external := os.environ.get("MONGO_URL"):
        yield external
        return
    with MongoEcoServer(tmp_path_factory.mktemp("mongoeco")) as server:
        yield server.url


@pytest.fixture
def mongo_db_name() -> str:
    """A database name of its own for one test."""
    return f"t_{uuid.uuid4().hex[:16]}"


@pytest.fixture
async def mongo_db(mongo_url: str, mongo_db_name: str) -> AsyncIterator[AsyncDatabase[Document]]:
    """An empty database of the test's own, dropped afterwards."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongo_url, tz_aware=True)
    try:
        yield client[mongo_db_name]
        await client.drop_database(mongo_db_name)
    finally:
        await client.close()
