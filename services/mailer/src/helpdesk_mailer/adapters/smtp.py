"""SMTP delivery through a small pool of aiosmtplib connections, and what each failure means.

Each connection is opened lazily, reused for message after message (SMTP allows one transaction
at a time per connection, so a message holds its connection until the relay answered), closed
after any failure (its state is unknown then) and re-opened by the next message. A connection
that sat idle longer than the relay is likely to keep it is replaced before use; if a reused
connection turns out to be dead, the message is retried once on a fresh one at once. The
relay's reply decides what a failure means: see `classify`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import aiosmtplib

from helpdesk_mailer.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from helpdesk_mailer.settings import MailerSettings, Security

logger = logging.getLogger("helpdesk.mailer.smtp")

# Replies that say the relay refuses *us* (authentication or encryption required, credentials
# wrong or expired): a settings problem to report loudly, not a verdict on this message.
_CONFIGURATION_CODES = frozenset({454, 530, 534, 535, 538})
# "Message too large": RFC 1870 552, and 554 5.3.4 from some relays.
_TOO_LARGE_CODES = frozenset({552})


@dataclass(frozen=True, slots=True)
class SmtpOptions:
    host: str
    port: int
    security: Security
    ca_file: str | None
    username: str | None
    password: str | None
    local_hostname: str
    connect_timeout: float
    command_timeout: float
    idle_seconds: float

    @classmethod
    def from_settings(cls, settings: MailerSettings) -> SmtpOptions:
        return cls(
            host=settings.smtp_host,
            port=settings.port,
            security=settings.smtp_security,
            ca_file=str(settings.smtp_ca_file) if settings.smtp_ca_file else None,
            username=settings.smtp_username,
            password=(
                settings.smtp_password.get_secret_value() if settings.smtp_password else None
            ),
            # Never socket.getfqdn(): it can stall for seconds on DNS.
            local_hostname=settings.smtp_local_hostname or settings.domain,
            connect_timeout=settings.smtp_connect_timeout_seconds,
            command_timeout=settings.smtp_command_timeout_seconds,
            idle_seconds=settings.smtp_idle_seconds,
        )

    def __repr__(self) -> str:  # never print the password
        return f"SmtpOptions(host={self.host!r}, port={self.port}, security={self.security!r})"


@dataclass(frozen=True, slots=True)
class Receipt:
    """The relay accepted the message."""

    reply: str
    refused: dict[str, str]  # recipients refused while others were accepted


def _first_line(text: str) -> str:
    return " ".join(text.split())[:500]


def classify(exc: BaseException) -> DeliveryError:
    """Map an aiosmtplib/TLS/socket failure to a transient or permanent delivery error."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        # Every recipient refused: judge by the first reply (they are all configured addresses).
        first = exc.recipients[0]
        return classify(aiosmtplib.SMTPResponseException(first.code, first.message))
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return TransientDeliveryError(
            "SMTP authentication failed (check MAILER_SMTP_USERNAME/PASSWORD)",
            smtp_code=exc.code,
            smtp_reply=_first_line(exc.message),
            configuration=True,
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        code, reply = exc.code, _first_line(exc.message)
        if code in _CONFIGURATION_CODES:
            return TransientDeliveryError(
                "the SMTP relay refused the mailer's session (authentication or TLS required?)",
                smtp_code=code,
                smtp_reply=reply,
                configuration=True,
            )
        if 400 <= code < 500:
            return TransientDeliveryError(
                "the SMTP relay deferred the message", smtp_code=code, smtp_reply=reply
            )
        if code in _TOO_LARGE_CODES or "too large" in reply.lower() or "5.3.4" in reply:
            return PermanentDeliveryError(
                "the message is too large for the SMTP relay", smtp_code=code, smtp_reply=reply
            )
        if 500 <= code < 600:
            return PermanentDeliveryError(
                "the SMTP relay rejected the message", smtp_code=code, smtp_reply=reply
            )
        return TransientDeliveryError(
            "unexpected SMTP reply", smtp_code=code if code > 0 else None, smtp_reply=reply
        )
    tls_error = exc if isinstance(exc, ssl.SSLError) else exc.__cause__
    if isinstance(tls_error, ssl.SSLError):
        return TransientDeliveryError(
            f"TLS with the SMTP relay failed: {_first_line(str(tls_error))} "
            "(check MAILER_SMTP_SECURITY/MAILER_SMTP_CA_FILE)",
            configuration=True,
        )
    if isinstance(exc, aiosmtplib.SMTPNotSupported) or (
        type(exc) is aiosmtplib.SMTPException and "STARTTLS" in str(exc)
    ):
        return TransientDeliveryError(
            f"the SMTP relay lacks a required feature: {_first_line(str(exc))}",
            configuration=True,
        )
    if isinstance(exc, TimeoutError):
        return TransientDeliveryError(f"SMTP timeout: {_first_line(str(exc)) or 'no answer'}")
    if isinstance(exc, (ConnectionError, OSError, aiosmtplib.SMTPException)):
        return TransientDeliveryError(
            f"SMTP connection failed: {_first_line(str(exc)) or type(exc).__name__}"
        )
    raise exc  # a bug, not a delivery failure: let it surface


class _Connection:
    """One pooled connection: opened lazily, reused, dropped after any failure."""

    def __init__(self, transport: SmtpTransport) -> None:
        self.transport = transport
        self.client: aiosmtplib.SMTP | None = None
        self.last_used = 0.0

    def _usable(self) -> aiosmtplib.SMTP | None:
        client = self.client
        if client is None or not client.is_connected:
            return None
        if self.transport.clock() - self.last_used > self.transport.options.idle_seconds:
            return None
        return client

    async def send(self, sender: str, recipients: list[str], data: bytes) -> Receipt:
        client = self._usable()
        reused = client is not None
        try:
            if client is None:
                self.drop()
                client = self.client = await self.transport.connect()
            try:
                refused, reply = await client.sendmail(sender, recipients, data)
            except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
                if not reused:
                    raise
                # The relay closed the idle connection under us: one fresh try, now.
                self.drop()
                client = self.client = await self.transport.connect()
                refused, reply = await client.sendmail(sender, recipients, data)
        except Exception as exc:
            self.drop()
            raise classify(exc) from exc
        except BaseException:
            self.drop()  # cancelled mid-conversation: the connection state is unknown
            raise
        self.last_used = self.transport.clock()
        if refused:
            logger.warning(
                "some recipients refused",
                extra={"refused": {k: f"{v.code} {v.message}" for k, v in refused.items()}},
            )
        return Receipt(
            reply=_first_line(reply),
            refused={k: f"{v.code} {_first_line(v.message)}" for k, v in refused.items()},
        )

    def drop(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            client.close()

    async def quit(self) -> None:
        client, self.client = self.client, None
        if client is not None and client.is_connected:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.quit(), timeout=2.0)
        if client is not None:
            client.close()


class SmtpTransport:
    """Sends raw messages over a small pool of reusable connections (`size`, default 1).

    A message takes the most recently used free connection, so under light load one connection
    does all the work and the others stay closed; under load up to `size` transactions run at
    once. Each connection is opened lazily and replaced after a failure or a long idle time.
    """

    def __init__(
        self, options: SmtpOptions, *, size: int = 1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if size < 1:
            raise ValueError("the SMTP pool needs at least one connection")
        self.options = options
        self.clock = clock
        self._free: asyncio.LifoQueue[_Connection] = asyncio.LifoQueue()
        self._all = [_Connection(self) for _ in range(size)]
        for connection in reversed(self._all):
            self._free.put_nowait(connection)
        self._tls_context: ssl.SSLContext | None = None

    def _context(self) -> ssl.SSLContext:
        # Verification is always on; a private CA is trusted through MAILER_SMTP_CA_FILE.
        if self._tls_context is None:
            self._tls_context = ssl.create_default_context(cafile=self.options.ca_file)
        return self._tls_context

    async def connect(self) -> aiosmtplib.SMTP:
        options = self.options
        tls = options.security != "none"
        client = aiosmtplib.SMTP(
            hostname=options.host,
            port=options.port,
            use_tls=options.security == "tls",
            start_tls=options.security == "starttls",
            validate_certs=True,
            tls_context=self._context() if tls else None,
            local_hostname=options.local_hostname,
            username=options.username,
            password=options.password,
            timeout=options.command_timeout,
        )
        await client.connect(timeout=options.connect_timeout)
        logger.info(
            "SMTP connection opened",
            extra={
                "smtp_host": options.host,
                "smtp_port": options.port,
                "smtp_security": options.security,
            },
        )
        return client

    async def send(self, sender: str, recipients: Sequence[str], data: bytes) -> Receipt:
        """Deliver one message; raises TransientDeliveryError or PermanentDeliveryError."""
        connection = await self._free.get()
        try:
            return await connection.send(sender, list(recipients), data)
        finally:
            self._free.put_nowait(connection)

    async def close(self) -> None:
        """Say QUIT politely on every open connection, once its message is through (shutdown)."""
        taken = [await self._free.get() for _ in self._all]
        try:
            await asyncio.gather(*(connection.quit() for connection in taken))
        finally:
            for connection in taken:
                self._free.put_nowait(connection)
