"""The helpdesk mailbox over POP3 (plain, STLS or POP3S), with poplib off the event loop.

poplib blocks, so every call runs in a worker thread (`asyncio.to_thread`); one session is used
by one coroutine at a time. Certificates are verified with `ssl.create_default_context()`
(optionally trusting an extra CA file); a session that cannot be secured is never used in plain.
DELE marks take effect only at QUIT: a session closed without QUIT deletes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import poplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from helpdesk_inbox.errors import (
    MailboxError,
    MailboxLoginError,
    MailboxSecurityError,
    MailboxUnavailableError,
    MessageFetchError,
)

Security = Literal["pop3s", "starttls", "plain"]
CRLF = b"\r\n"


@dataclass(frozen=True, slots=True)
class Pop3Config:
    host: str
    port: int
    security: Security
    user: str
    password: str
    ca_file: Path | None
    connect_timeout: float
    read_timeout: float
    max_line: int  # longest line accepted; a message over the size limit is never RETR'd

    def __repr__(self) -> str:  # never show the password in logs or tracebacks
        return f"Pop3Config({self.security}://{self.user}@{self.host}:{self.port})"


@dataclass(frozen=True, slots=True)
class MailRef:
    """One message as the listing shows it: session number, UIDL, size in octets."""

    number: int
    uidl: str
    size: int


def _read_line(file: BinaryIO, limit: int) -> tuple[bytes, int]:
    # poplib's own reader refuses lines over 2048 bytes, which real (broken) mail has; this one
    # allows up to the size limit, so no message that may be retrieved can fail on that.
    line = file.readline(limit + 1)
    if len(line) > limit:
        raise poplib.error_proto("line too long")
    if not line:
        raise poplib.error_proto("-ERR EOF")
    octets = len(line)
    if line[-2:] == CRLF:
        return line[:-2], octets
    if line[:1] == b"\r":
        return line[1:-1], octets
    return line[:-1], octets


class _Pop3(poplib.POP3):
    max_line = 2048

    def _getline(self) -> tuple[bytes, int]:
        return _read_line(self.file, self.max_line)


class _Pop3Ssl(poplib.POP3_SSL):
    max_line = 2048

    def _getline(self) -> tuple[bytes, int]:
        return _read_line(self.file, self.max_line)


def _server_refusal(exc: poplib.error_proto) -> bool:
    """A -ERR answer (the session is fine), as opposed to a dropped or garbled connection."""
    arg = exc.args[0] if exc.args else b""
    return isinstance(arg, bytes) and arg.startswith(b"-ERR")


def _describe(exc: BaseException) -> str:
    first = exc.args[0] if exc.args else None
    text = first.decode("ascii", "replace") if isinstance(first, bytes) else str(exc)
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


class Pop3Mailbox:
    """Opens sessions to one mailbox."""

    def __init__(self, config: Pop3Config) -> None:
        self.config = config

    @property
    def address(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    def _ssl_context(self) -> ssl.SSLContext:
        ca = str(self.config.ca_file) if self.config.ca_file else None
        return ssl.create_default_context(cafile=ca)

    def _connect(self) -> poplib.POP3:
        c = self.config
        client: _Pop3 | _Pop3Ssl
        try:
            if c.security == "pop3s":
                client = _Pop3Ssl(
                    c.host, c.port, timeout=c.connect_timeout, context=self._ssl_context()
                )
            else:
                client = _Pop3(c.host, c.port, timeout=c.connect_timeout)
        except ssl.SSLError as exc:
            raise MailboxSecurityError(
                f"TLS with {self.address} failed: {_describe(exc)}"
            ) from None
        except (OSError, poplib.error_proto) as exc:
            raise MailboxUnavailableError(
                f"cannot connect to {self.address}: {_describe(exc)}"
            ) from None
        client.max_line = max(c.max_line, 2048)
        try:
            self._secure_and_login(client)
        except BaseException:
            with contextlib.suppress(OSError):  # a failed handshake may leave a dead socket
                client.close()
            raise
        return client

    def _secure_and_login(self, client: poplib.POP3) -> None:
        c = self.config
        try:
            if c.security == "starttls":
                client.stls(context=self._ssl_context())
            if client.sock is not None:
                client.sock.settimeout(c.read_timeout)
        except ssl.SSLError as exc:
            raise MailboxSecurityError(
                f"STLS with {self.address} failed: {_describe(exc)}"
            ) from None
        except poplib.error_proto as exc:
            raise MailboxSecurityError(f"{self.address} refused STLS: {_describe(exc)}") from None
        except OSError as exc:
            raise MailboxUnavailableError(f"{self.address}: {_describe(exc)}") from None
        try:
            client.user(c.user)
            client.pass_(c.password)
        except poplib.error_proto as exc:
            if _server_refusal(exc):
                raise MailboxLoginError(
                    f"{self.address} refused the login of {c.user}: {_describe(exc)}"
                ) from None
            raise MailboxUnavailableError(f"{self.address}: {_describe(exc)}") from None
        except OSError as exc:
            raise MailboxUnavailableError(f"{self.address}: {_describe(exc)}") from None

    async def open(self) -> Pop3Session:
        """Connect, secure and log in; raises a MailboxError subclass on failure."""
        client = await asyncio.to_thread(self._connect)
        return Pop3Session(client, self.address)


class Pop3Session:
    """One logged-in session. Call `quit` to commit DELEs, or `close` to drop them."""

    def __init__(self, client: poplib.POP3, address: str) -> None:
        self._client = client
        self.address = address

    async def _call[T](self, fn: Callable[[], T], what: str) -> T:
        try:
            return await asyncio.to_thread(fn)
        except poplib.error_proto as exc:
            if _server_refusal(exc):
                raise MessageFetchError(f"{what}: {_describe(exc)}") from None
            raise MailboxUnavailableError(f"{what}: {_describe(exc)}") from None
        except OSError as exc:  # includes timeouts and ssl.SSLError
            raise MailboxUnavailableError(f"{what}: {_describe(exc)}") from None

    async def listing(self) -> list[MailRef]:
        """Every message: UIDL and size (two commands, whatever the mailbox holds)."""

        def read() -> list[MailRef]:
            uidls: dict[int, str] = {}
            for line in self._client.uidl()[1]:
                number, uidl = line.split(None, 1)
                uidls[int(number)] = uidl.strip().decode("ascii", "replace")
            sizes: dict[int, int] = {}
            for line in self._client.list()[1]:
                number, size = line.split(None, 1)
                sizes[int(number)] = int(size.split()[0])
            return [MailRef(n, uidls[n], sizes.get(n, 0)) for n in sorted(uidls)]

        try:
            return await self._call(read, "UIDL/LIST")
        except MessageFetchError as exc:  # e.g. a server without UIDL: nothing can work
            raise MailboxUnavailableError(str(exc)) from None
        except (ValueError, IndexError) as exc:
            raise MailboxUnavailableError(f"garbled UIDL/LIST answer: {exc}") from None

    async def retrieve(self, ref: MailRef) -> bytes:
        lines = (await self._call(lambda: self._client.retr(ref.number), f"RETR {ref.uidl}"))[1]
        return CRLF.join(lines) + CRLF

    async def headers(self, ref: MailRef) -> bytes:
        """The header block only (TOP n 0): what a message over the size limit is read for."""
        lines = (await self._call(lambda: self._client.top(ref.number, 0), f"TOP {ref.uidl}"))[1]
        return CRLF.join(lines) + CRLF

    async def delete(self, ref: MailRef) -> None:
        await self._call(lambda: self._client.dele(ref.number), f"DELE {ref.uidl}")

    async def quit(self) -> None:
        """End the session; the server deletes the messages marked with DELE now."""
        try:
            await self._call(self._client.quit, "QUIT")
        finally:
            await self.close()

    async def close(self) -> None:
        """Drop the connection without QUIT (nothing is deleted)."""

        def close() -> None:
            with contextlib.suppress(OSError):
                self._client.close()

        await asyncio.to_thread(close)


__all__ = ["MailRef", "MailboxError", "Pop3Config", "Pop3Mailbox", "Pop3Session"]
