"""What processes exist, read from /proc: to prove that a stop leaves nothing behind.

A process is identified by (pid, start time), so a recycled pid is never mistaken for the old one.
Zombies are reported too (state "Z"): on these machines PID 1 does not reap, so an orphan that
exits stays a zombie for good unless a subreaper (see `become_subreaper`) collects it.
"""

from __future__ import annotations

import ctypes
import os
import time
from dataclasses import dataclass
from pathlib import Path

_PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    pid: int
    ppid: int
    pgid: int
    state: str
    start_time: int  # clock ticks after boot: with pid, unique over the machine's uptime
    command: str

    @property
    def key(self) -> tuple[int, int]:
        return (self.pid, self.start_time)

    @property
    def zombie(self) -> bool:
        return self.state == "Z"


def read_process(pid: int) -> ProcessInfo | None:
    """The process now, or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name is in parentheses and may itself contain spaces or ")".
    head, _, rest = stat.rpartition(")")
    fields = rest.split()
    return ProcessInfo(
        pid=pid,
        ppid=int(fields[1]),
        pgid=int(fields[2]),
        state=fields[0],
        start_time=int(fields[19]),
        command=head.partition("(")[2],
    )


def all_processes() -> list[ProcessInfo]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (info := read_process(int(entry))) is not None:
            found.append(info)
    return found


def descendants(pid: int) -> list[ProcessInfo]:
    """Every process below `pid` (children, their children, ...), zombies included."""
    processes = all_processes()
    children: dict[int, list[ProcessInfo]] = {}
    for info in processes:
        children.setdefault(info.ppid, []).append(info)
    found: list[ProcessInfo] = []
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child.pid)
    return found


def still_alive(processes: list[ProcessInfo]) -> list[ProcessInfo]:
    """Those of `processes` that still exist (same pid and start time), zombies included."""
    alive = []
    for info in processes:
        now = read_process(info.pid)
        if now is not None and now.start_time == info.start_time:
            alive.append(now)
    return alive


def group_members(pgid: int) -> list[ProcessInfo]:
    return [info for info in all_processes() if info.pgid == pgid]


def become_subreaper() -> bool:
    """Adopt orphaned descendants (Linux PR_SET_CHILD_SUBREAPER) so they can be reaped here."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def reap_children() -> int:
    """Collect every exited child (zombie) of this process without blocking; return how many."""
    reaped = 0
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return reaped
        if pid == 0:
            return reaped
        reaped += 1


def reap_descendants(timeout: float = 5.0) -> list[ProcessInfo]:
    """Reap exited children until no descendant is left or time runs out; return what is left.

    For a subreaper after a stop: processes killed a moment ago may not have exited yet, and
    orphans that exited are adopted as zombies, which only a wait here removes.
    """
    deadline = time.monotonic() + timeout
    while True:
        reap_children()
        left = descendants(os.getpid())
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)
