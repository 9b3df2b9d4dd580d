"""One sandbox for all fault tests but the MongoDB restart: starting it costs half a minute.

Each test leaves it whole (every service running, every stand-in up, the proxy open) and checks
that at its start; a test that broke something it could not repair fails the ones after it
loudly rather than silently testing a half-broken system.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.e2e.faults.crowd import running_stack
from tests.e2e.faults.stack import FaultStack

PEOPLE = int(os.environ.get("FAULT_PEOPLE", "10"))
"""Simulated employees filing tickets at once."""


@pytest.fixture(scope="package")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    """MongoDB on mongoeco's memory engine: three times the speed of its SQLite engine.

    Package scope: stopped after the last fault test, not left running under the rest of a
    full test session."""
    stack = FaultStack(tmp_path_factory.mktemp("faults"), people=PEOPLE, mongo_sqlite=False)
    with running_stack(stack):
        yield stack


@pytest.fixture
def stack(fault_stack: FaultStack) -> Iterator[FaultStack]:
    """The shared stack, whole at the start of the test, repaired after it where possible."""
    assert fault_stack.crashed() == [], f"a previous test left {fault_stack.crashed()} down"
    fault_stack.wait_ready(timeout=60)
    yield fault_stack
    fault_stack.repair()
