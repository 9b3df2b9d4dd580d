"""Run the mongoeco MongoDB wire-protocol server as its own process.

`python -m helpdesk_harness.mongo_server --port 27018 [--sqlite FILE] [--costs FILE]`: memory
engine by default; the SQLite engine survives a restart (even SIGKILL), for fault tests. `--costs`
keeps CPU time per command and collection in a file (see mongo_costs.py). Runs until
SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from pathlib import Path

from mongoeco.engines.memory import MemoryEngine
from mongoeco.engines.sqlite import SQLiteEngine
from mongoeco.wire.proxy import AsyncMongoEcoProxyServer

from helpdesk_harness.mongo_costs import CommandCosts


async def serve(host: str, port: int, sqlite_path: str | None, costs_path: str | None) -> None:
    costs = CommandCosts(Path(costs_path)) if costs_path else None
    if costs is not None and not costs.install():
        print("mongoeco's executor has changed: no command costs", flush=True)
        costs = None
    engine = SQLiteEngine(sqlite_path) if sqlite_path else MemoryEngine()
    server = AsyncMongoEcoProxyServer(engine=engine, host=host, port=port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    print(f"mongoeco listening on {host}:{port}", flush=True)
    writer = asyncio.create_task(costs.keep_writing()) if costs is not None else None
    try:
        await stop.wait()
    finally:
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        await server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sqlite", default=None, help="database file (default: in memory)")
    parser.add_argument("--costs", default=None, help="write CPU time per command to this file")
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port, args.sqlite, args.costs))


if __name__ == "__main__":
    main()
