"""A capturing SMTP server (aiosmtpd) for tests, with TLS, AUTH and failure injection.

`SmtpSink` runs aiosmtpd's threaded `Controller` on 127.0.0.1 and keeps every accepted message
as a `CapturedMail`. Tests can make the next transactions fail at a chosen stage, drop the
connection mid-DATA, slow DATA down, or take the server away and bring it back on the same port,
so a mailer's retry and idempotency behaviour is observed against a real SMTP conversation.

Run as a process (end-to-end tests) it writes each message as an .eml file into a directory:
    python -m helpdesk_harness.smtp_sink --port 2525 --spool /tmp/mail
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import hmac
import itertools
import signal
import ssl
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal, Self
from weakref import WeakKeyDictionary

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from helpdesk_harness.procs import free_port

__all__ = [
    "CapturedMail",
    "FaultStage",
    "SmtpSink",
    "main",
]

FaultStage = Literal["mail", "rcpt", "data"]

HOST = "127.0.0.1"
# Given explicitly: aiosmtpd would otherwise call socket.getfqdn(), which can stall on DNS.
SERVER_NAME = "smtp-sink.localhost"


@dataclass(frozen=True, slots=True)
class CapturedMail:
    """One message the sink accepted (answered 250 to DATA)."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes  # DATA as received, dot-unstuffed, CRLF line ends
    message: EmailMessage
    received_at: datetime  # aware, UTC
    tls: bool  # the session was encrypted (STARTTLS or implicit TLS)
    auth_login: str | None  # the AUTH user of the session, None if it did not authenticate
    mail_options: list[str]  # MAIL FROM parameters, e.g. ["SMTPUTF8", "BODY=8BITMIME"]


@dataclass(frozen=True, slots=True)
class _Fault:
    stage: FaultStage
    reply: str | None  # None: drop the connection instead of replying


class SmtpSink:
    """A real SMTP server on 127.0.0.1 that captures mail; start()/stop() may be repeated."""

    host = HOST

    def __init__(
        self,
        *,
        port: int | None = None,
        starttls: bool = False,
        require_starttls: bool = False,
        implicit_tls: bool = False,
        auth: tuple[str, str] | None = None,
        auth_required: bool = False,
        auth_require_tls: bool = True,
        on_message: Callable[[CapturedMail], None] | None = None,
    ) -> None:
        if starttls and implicit_tls:
            raise ValueError("choose starttls or implicit_tls, not both")
        if require_starttls and not starttls:
            raise ValueError("require_starttls needs starttls=True")
        if auth_required and auth is None:
            raise ValueError("auth_required needs auth=(user, password)")
        if auth is not None and auth_require_tls and not (starttls or implicit_tls):
            raise ValueError("AUTH is only offered over TLS: enable TLS or auth_require_tls=False")
        self.port = port if port is not None else free_port()
        self._starttls = starttls
        self._require_starttls = require_starttls
        self._implicit_tls = implicit_tls
        self._auth = auth
        self._auth_required = auth_required
        self._auth_require_tls = auth_require_tls
        self._on_message = on_message

        self._cond = threading.Condition()
        self._messages: list[CapturedMail] = []
        self._attempted = 0
        self._faults: deque[_Fault] = deque()
        self._delay = 0.0
        self._controller: Controller | None = None

        self._certs: tempfile.TemporaryDirectory[str] | None = None
        self._server_tls: ssl.SSLContext | None = None
        self._ca_path: Path | None = None
        if starttls or implicit_tls:
            self._make_certificates()

    # --- lifecycle -------------------------------------------------------------------------

    def _make_certificates(self) -> None:
        ca = trustme.CA()
        cert = ca.issue_cert(HOST, "localhost", SERVER_NAME)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        self._server_tls = context
        # A file, because clients (and the mailer's settings) take a CA bundle path.
        self._certs = tempfile.TemporaryDirectory(prefix="smtp-sink-")
        self._ca_path = Path(self._certs.name) / "ca.pem"
        ca.cert_pem.write_to_path(str(self._ca_path))

    def start(self) -> Self:
        """Listen on self.port (the same port after a stop()); no-op if already running."""
        if self._controller is not None:
            return self
        kwargs: dict[str, Any] = {
            "server_hostname": SERVER_NAME,
            # Enforced in the MAIL hook instead: aiosmtpd's own check would demand STARTTLS
            # even on an implicit-TLS connection and warn about it on every session.
            "auth_required": False,
            "auth_require_tls": self._auth_require_tls and not self._implicit_tls,
            "authenticator": self._authenticate,
        }
        if self._starttls:
            kwargs["tls_context"] = self._server_tls
            kwargs["require_starttls"] = self._require_starttls
        controller = Controller(
            _Handler(self),
            hostname=HOST,
            port=self.port,
            ssl_context=self._server_tls if self._implicit_tls else None,
            **kwargs,
        )
        try:
            controller.start()
        except BaseException:
            # The controller's thread closes its loop only after a successful start.
            controller.stop(no_assert=True)
            if not controller.loop.is_closed():
                controller.loop.close()
            raise
        self._controller = controller
        return self

    def stop(self) -> None:
        """Stop listening and cut open sessions (clients then get connection refused)."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def close(self) -> None:
        """stop() and delete the generated certificates."""
        self.stop()
        if self._certs is not None:
            self._certs.cleanup()
            self._certs = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return self._controller is not None

    @property
    def ca_cert_pem_path(self) -> Path:
        """PEM file of the CA that signed the server certificate (TLS sinks only)."""
        if self._ca_path is None:
            raise RuntimeError("this sink has no TLS; create it with starttls or implicit_tls")
        return self._ca_path

    def client_tls_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts only this sink's CA."""
        return ssl.create_default_context(cafile=str(self.ca_cert_pem_path))

    # --- captured mail ---------------------------------------------------------------------

    @property
    def messages(self) -> list[CapturedMail]:
        """A copy of every accepted message, oldest first."""
        with self._cond:
            return list(self._messages)

    @property
    def transactions_attempted(self) -> int:
        """MAIL FROM commands received (authenticated where required), failed or not."""
        with self._cond:
            return self._attempted

    @property
    def transactions_accepted(self) -> int:
        """Messages answered with 250 after DATA (== len(messages) since the last clear())."""
        with self._cond:
            return len(self._messages)

    def clear(self) -> None:
        """Forget captured messages and reset both counters; pending faults and delay stay."""
        with self._cond:
            self._messages.clear()
            self._attempted = 0

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[CapturedMail]:
        """Block until at least `count` messages are captured; return all of them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self._shortfall(count, timeout))
                self._cond.wait(min(remaining, 0.05))
            return list(self._messages)

    # A timeout argument on purpose: it mirrors wait_for() and yields a TimeoutError that
    # says how many messages did arrive, which asyncio.timeout() around the call would not.
    async def await_messages(
        self,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[CapturedMail]:
        """Like wait_for(), but polls with asyncio.sleep so the caller's loop keeps running."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                if len(self._messages) >= count:
                    return list(self._messages)
            if time.monotonic() >= deadline:
                with self._cond:
                    raise TimeoutError(self._shortfall(count, timeout))
            await asyncio.sleep(0.02)

    def _shortfall(self, count: int, timeout: float) -> str:
        return (
            f"expected {count} message(s) within {timeout}s, got {len(self._messages)} "
            f"({self._attempted} transaction(s) attempted)"
        )

    # --- failure injection -----------------------------------------------------------------

    def fail_next(
        self,
        code: int,
        message: str = "injected failure",
        times: int = 1,
        stage: FaultStage = "data",
    ) -> None:
        """Answer `code message` at `stage` in each of the next `times` transactions.

        A fault is taken from a FIFO queue (shared with drop_next) when a transaction starts
        (MAIL FROM), so it is used up even if the client gives up before reaching `stage`.
        At "rcpt" every recipient of that transaction is refused. A 421 also closes the
        connection, as RFC 5321 says a server does.
        """
        if not 400 <= code <= 599:
            raise ValueError(f"not an SMTP failure code: {code}")
        if "\r" in message or "\n" in message:
            raise ValueError("the reply text must be one line")
        with self._cond:
            self._faults.extend(_Fault(stage, f"{code} {message}") for _ in range(times))

    def drop_next(self, times: int = 1) -> None:
        """Abort the connection of each of the next `times` transactions after their DATA
        content arrived and before any reply (the message is not captured)."""
        with self._cond:
            self._faults.extend(_Fault("data", None) for _ in range(times))

    def delay(self, seconds: float) -> None:
        """Wait `seconds` before answering every DATA from now on; delay(0) turns it off.

        A client that disconnects during the wait (its timeout) leaves nothing captured.
        """
        with self._cond:
            self._delay = seconds

    # --- called on the server thread -------------------------------------------------------

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            self._auth is not None
            and isinstance(data, LoginPassword)
            and hmac.compare_digest(data.login, self._auth[0].encode())
            and hmac.compare_digest(data.password, self._auth[1].encode())
        )
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    def _begin_transaction(self, session: Session) -> str | _Fault | None:
        """Return a refusal reply, the fault for this transaction, or None."""
        if self._auth_required and not session.authenticated:
            return "530 5.7.0 Authentication required"
        with self._cond:
            self._attempted += 1
            return self._faults.popleft() if self._faults else None

    def _current_delay(self) -> float:
        with self._cond:
            return self._delay

    def _capture(self, server: SMTP, session: Session, envelope: Envelope) -> None:
        raw = bytes(envelope.original_content or b"")
        transport = server.transport
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
        mail = CapturedMail(
            mail_from=envelope.mail_from or "",
            rcpt_tos=list(envelope.rcpt_tos),
            raw=raw,
            message=email.message_from_bytes(raw, policy=email.policy.default),
            received_at=datetime.now(UTC),
            tls=transport is not None and transport.get_extra_info("ssl_object") is not None,
            auth_login=login.decode() if login is not None else None,
            mail_options=list(envelope.mail_options),
        )
        with self._cond:
            self._messages.append(mail)
            self._cond.notify_all()
        if self._on_message is not None:
            self._on_message(mail)


def _hang_up(server: SMTP, *, abort: bool) -> None:
    """End the session the way aiosmtpd's QUIT does: stop its command loop, close the socket."""
    if server._handler_coroutine is not None:
        server._handler_coroutine.cancel()
    if server.transport is not None:
        if abort and isinstance(server.transport, asyncio.Transport):
            server.transport.abort()
        else:
            server.transport.close()


class _Handler:
    """aiosmtpd hooks; each transaction may carry one fault taken at MAIL FROM."""

    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink
        # aiosmtpd creates a fresh Envelope per transaction, so it identifies the transaction.
        self._faults: WeakKeyDictionary[Envelope, _Fault] = WeakKeyDictionary()

    async def _refuse(self, server: SMTP, reply: str) -> str:
        if reply.startswith("421"):
            await server.push(reply)
            _hang_up(server, abort=False)
        return reply

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        started = self._sink._begin_transaction(session)
        if isinstance(started, str):
            return started
        if started is not None and started.stage == "mail" and started.reply is not None:
            return await self._refuse(server, started.reply)
        if started is not None:
            self._faults[envelope] = started
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        fault = self._faults.get(envelope)
        if fault is not None and fault.stage == "rcpt" and fault.reply is not None:
            return await self._refuse(server, fault.reply)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        delay = self._sink._current_delay()
        if delay > 0:
            # Cancelled (nothing captured) if the client hangs up meanwhile.
            await asyncio.sleep(delay)
        fault = self._faults.pop(envelope, None)
        if fault is not None and fault.stage == "data":
            if fault.reply is None:
                _hang_up(server, abort=True)
                return "451 connection dropped"  # never reaches the client
            return await self._refuse(server, fault.reply)
        self._sink._capture(server, session, envelope)
        return "250 OK"


# --- as a process ---------------------------------------------------------------------------


def _spool_writer(directory: Path) -> Callable[[CapturedMail], None]:
    directory.mkdir(parents=True, exist_ok=True)
    sequence = itertools.count(1)

    def write(mail: CapturedMail) -> None:
        name = f"{time.time_ns()}-{next(sequence):05d}"
        # Written under a hidden name and renamed, so a reader never sees half a message.
        partial = directory / f".{name}.tmp"
        partial.write_bytes(mail.raw)
        partial.rename(directory / f"{name}.eml")

    return write


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Capture SMTP mail into .eml files.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--spool", "--maildir", dest="spool", type=Path, required=True)
    args = parser.parse_args(argv)
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    # Blocked before the server thread exists, so only sigwait() below ever sees them.
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    sink = SmtpSink(port=args.port, on_message=_spool_writer(args.spool))
    with sink:
        print(f"smtp-sink listening on {sink.host}:{sink.port}", flush=True)
        signal.sigwait(stop_signals)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
