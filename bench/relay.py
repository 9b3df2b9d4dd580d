"""A counting TCP relay for MongoDB's wire protocol, run as its own process.

`python -m bench.relay --upstream HOST:PORT --marker gateway_fsm --counts FILE` listens on a
free port (printed as `relay listening on PORT`), forwards every connection to the upstream
server unchanged and counts the client's messages whose bytes name a marker (a collection name
as the command's C string): that is how the benchmark learns how many FSM storage round trips
the gateway made, without touching the gateway. It also counts every message by its command and
collection ("find gateway_users", "getMore", "hello"), so the report can say where the gateway's
round trips go. The counts are written to FILE as JSON every
half second and on exit. One extra loopback hop per round trip; the floor bot that is compared
with the gateway goes through the same relay.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

HEADER = 16  # messageLength, requestID, responseTo, opCode
OP_MSG = 2013
STRING = 0x02  # BSON element type


class Relay:
    def __init__(self, upstream: tuple[str, int], markers: Sequence[str]) -> None:
        self.upstream = upstream
        self.markers = [marker.encode() + b"\x00" for marker in markers]
        self.counts = dict.fromkeys(markers, 0)
        self.messages = 0
        self.commands: Counter[str] = Counter()
        """Messages by "command collection" (e.g. "find gateway_users"), for the breakdown."""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._requests(reader, up_writer), _pipe(up_reader, writer))

    async def _requests(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Client to server, message by message (each starts with its int32 length)."""
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while True:
                header = await reader.readexactly(HEADER)
                length = int.from_bytes(header[:4], "little")
                body = await reader.readexactly(length - HEADER)
                self.messages += 1
                self.commands[command_of(header, body)] += 1
                for marker, name in zip(self.markers, self.counts, strict=True):
                    if marker in body:
                        self.counts[name] += 1
                writer.write(header + body)
                await writer.drain()
        writer.close()


def command_of(header: bytes, body: bytes) -> str:
    """ "command collection" of an OP_MSG (its first section's first element: the command's name
    and, for collection commands, the collection); "other" for anything else."""
    if int.from_bytes(header[12:16], "little") != OP_MSG or len(body) < 12 or body[4] != 0:
        return "other"
    document = body[5:]  # after flagBits and the section kind (0: one BSON document)
    kind = document[4]
    name_end = document.find(b"\x00", 5)
    if name_end < 0:
        return "other"
    name = document[5:name_end].decode(errors="replace")
    if kind != STRING:
        return name
    length = int.from_bytes(document[name_end + 1 : name_end + 5], "little")
    value = document[name_end + 5 : name_end + 4 + length].decode(errors="replace")
    return f"{name} {value}"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


async def serve(relay: Relay, counts: Path) -> None:
    server = await asyncio.start_server(relay.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"relay listening on {port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def dump() -> None:
        counts.write_text(
            json.dumps(
                {"messages": relay.messages, "markers": relay.counts, "commands": relay.commands}
            )
        )

    while not stop.is_set():
        dump()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
    server.close()
    dump()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.relay")
    parser.add_argument("--upstream", required=True, help="host:port of the MongoDB server")
    parser.add_argument("--marker", action="append", default=[], help="collection name to count")
    parser.add_argument("--counts", type=Path, required=True, help="JSON file for the counts")
    args = parser.parse_args(argv)
    host, _, port = args.upstream.rpartition(":")
    asyncio.run(serve(Relay((host, int(port)), args.marker), args.counts))


if __name__ == "__main__":
    main()
