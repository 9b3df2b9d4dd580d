"""Process bookkeeping used to prove that a stop leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from helpdesk_sandbox.procinfo import ProcessInfo, descendants, read_process, still_alive


def _wait_for_sleep(parent: int) -> list[ProcessInfo]:
    deadline = time.monotonic() + 10
    while not (found := [p for p in descendants(parent) if p.command == "sleep"]):
        assert time.monotonic() < deadline, "the grandchild never started"
        time.sleep(0.02)
    return found


def test_sees_a_grandchild_in_its_group_and_its_end() -> None:
    child = subprocess.Popen(
        ["sh", "-c", "sleep 30 & wait"], start_new_session=True, stdin=subprocess.DEVNULL
    )
    try:
        grandchild = _wait_for_sleep(os.getpid())
        assert grandchild[0].pgid == child.pid
        assert grandchild[0].ppid == child.pid
        tree = descendants(child.pid)
        assert [p.pid for p in still_alive(tree)] == [grandchild[0].pid]
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    assert read_process(child.pid) is None
    # The orphaned grandchild may linger as a zombie (PID 1 here does not reap), never running.
    deadline = time.monotonic() + 5
    while [p for p in still_alive(tree) if not p.zombie]:
        assert time.monotonic() < deadline, still_alive(tree)
        time.sleep(0.02)
