"""CPU time the mongoeco server spends per command and collection, for the benchmark.

`CommandCosts(path).install()` wraps the wire executor of the server process it runs in; the
cumulative costs are written to `path` (JSON, replaced atomically) every half second, so a reader
takes two snapshots and subtracts. A command's time is the server thread's CPU time from its start
to its answer: when commands interleave at an `await` inside the server, one's time may include a
little of another's, so read the split as an estimate (the server's total CPU is measured apart).
This hooks a private mongoeco API; when it changes, `install` says so and the server runs without.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

WRITE_EVERY_SECONDS = 0.5

Costs = dict[str, list[float]]
"""'command database.collection' -> [commands, CPU seconds]."""


def _key(context: Any) -> str:
    command = str(context.command_name)
    target = context.command_document.get(command)
    collection = target if isinstance(target, str) else ""
    return f"{command} {context.db_name}.{collection}".rstrip(".")


class CommandCosts:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.costs: defaultdict[str, list[float]] = defaultdict(lambda: [0, 0.0])

    def install(self) -> bool:
        try:
            from mongoeco.wire.executor import WireCommandExecutor
        except ImportError:
            return False
        original = getattr(WireCommandExecutor, "execute_prepared", None)
        if original is None:
            return False
        costs = self.costs

        async def timed(executor: Any, context: Any) -> Any:
            started = time.thread_time()
            try:
                return await original(executor, context)
            finally:
                entry = costs[_key(context)]
                entry[0] += 1
                entry[1] += time.thread_time() - started

        setattr(WireCommandExecutor, "execute_prepared", timed)  # noqa: B010 - patched on purpose
        return True

    def write(self) -> None:
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(dict(self.costs)))
        os.replace(temporary, self.path)

    async def keep_writing(self) -> None:
        while True:
            self.write()
            await asyncio.sleep(WRITE_EVERY_SECONDS)


def read_costs(path: Path | None) -> Costs:
    """The latest snapshot (empty before the first, and without a file: a server not counting)."""
    if path is None:
        return {}
    try:
        return {key: [float(n), float(s)] for key, (n, s) in json.loads(path.read_text()).items()}
    except FileNotFoundError:
        return {}


def costs_between(before: Costs, after: Costs) -> Costs:
    """What was counted between two snapshots (commands not run meanwhile left out)."""
    between: Costs = {}
    for key, (count, seconds) in after.items():
        count_before, seconds_before = before.get(key, (0.0, 0.0))
        if count > count_before:
            between[key] = [count - count_before, seconds - seconds_before]
    return between
