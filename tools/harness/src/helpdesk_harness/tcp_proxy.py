"""A TCP proxy of the test's own between services and RabbitMQ, to stage a broker outage.

Used by the /ready test (tests/integration/ops) and the fault tests (tests/e2e/faults).

The machine's RabbitMQ is shared with other tests and people, so it is never stopped. The
services are pointed at this proxy instead; `cut()` closes every connection through it and
makes it refuse new ones (accepted and closed at once, so the port stays ours), `restore()`
lets connections through again. To a client that is what a broker restart looks like: the
socket dies, reconnects fail, then succeed.

The proxy runs an asyncio loop in a thread of its own, so it keeps forwarding while the test's
own loop is busy (or blocked in a synchronous call).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Self

_CHUNK = 65536


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self.accepted = 0
        """Connections let through since start (refused ones not counted)."""
        self._open = True
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._ready = threading.Event()

    # -- control (called from any thread) --------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="tcp-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the TCP proxy did not start")

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._loop = self._thread = None

    def cut(self) -> int:
        """Close every proxied connection and refuse new ones; returns how many were closed."""
        return self._call(self._cut())

    def restore(self) -> None:
        self._open = True

    @property
    def is_open(self) -> bool:
        return self._open

    def connections(self) -> int:
        """Proxied connections open now (each counted once, by its client side)."""
        return len(self._writers) // 2

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _call(self, coro: Coroutine[None, None, int]) -> int:
        if self._loop is None:
            coro.close()
            raise RuntimeError("the TCP proxy is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    # -- the loop's side --------------------------------------------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        loop.run_until_complete(self._listen())
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        sockets = self._server.sockets
        self.port = int(sockets[0].getsockname()[1])

    async def _shutdown(self) -> int:
        if self._server is not None:
            self._server.close()
        return await self._cut()

    async def _cut(self) -> int:
        self._open = False
        writers = list(self._writers)
        for writer in writers:
            _abort(writer)
        self._writers.clear()
        return len(writers) // 2

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self._open:
            _abort(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            _abort(writer)
            return
        self.accepted += 1
        self._writers.update((writer, up_writer))
        try:
            await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))
        finally:
            for each in (writer, up_writer):
                self._writers.discard(each)
                _abort(each)


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
    _abort(writer)


def _abort(writer: asyncio.StreamWriter) -> None:
    """Drop the connection at once, unsent data and all: a broker that dies does not say bye."""
    if not writer.transport.is_closing():
        writer.transport.abort()
