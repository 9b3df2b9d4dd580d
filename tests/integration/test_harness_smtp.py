"""Smoke tests of the SMTP sink itself, driven by aiosmtplib as the mailer will be."""

from __future__ import annotations

import asyncio
import email
import email.policy
import signal
import smtplib
import ssl
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest
from helpdesk_harness.procs import ServerProcess, free_port, wait_for_port
from helpdesk_harness.smtp_sink import FaultStage, SmtpSink

from tests.support.smtp_sink import SmtpSinkFactory

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
CREDENTIALS = ("helpdesk-bot", "s3cret-пароль")
PHOTO = bytes(range(256)) * 40  # binary, so a broken transfer encoding would show


def ticket_email(subject: str = "[TG-7F3A2C] Не работает принтер") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "helpdesk-bot@corp.example"
    msg["To"] = "itsm@corp.example"
    msg["Reply-To"] = "иван.петров@corp.example"
    msg["Subject"] = subject
    msg["Message-ID"] = "<tg-7f3a2c@helpdesk.corp.example>"
    msg.set_content("Принтер в каб. 314 печатает пустые листы.\nEmail: ivan@corp.example\n")
    msg.add_attachment(PHOTO, maintype="image", subtype="jpeg", filename="фото-1.jpg")
    return msg


async def send(
    sink: SmtpSink,
    msg: EmailMessage | None = None,
    *,
    start_tls: bool = False,
    use_tls: bool = False,
    tls_context: ssl.SSLContext | None = None,
    username: str | None = None,
    password: str | None = None,
    timeout: float = 5.0,  # noqa: ASYNC109 - passed to aiosmtplib, which enforces it per command
) -> None:
    """What aiosmtplib.send() does, but returns only once the connection is really gone."""
    client = aiosmtplib.SMTP(
        hostname=sink.host,
        port=sink.port,
        start_tls=start_tls,
        use_tls=use_tls,
        tls_context=tls_context,
        username=username,
        password=password,
        timeout=timeout,
    )
    connection = None
    try:
        async with client:
            connection = client.protocol
            await client.send_message(msg or ticket_email())
    finally:
        # aiosmtplib's close() does not wait for the TLS close_notify exchange; finishing it
        # here keeps the socket from outliving the test's event loop (a ResourceWarning).
        # Polled: aiosmtplib exposes no public event for "connection lost".
        async with asyncio.timeout(5):
            while connection is not None and connection.transport is not None:  # noqa: ASYNC110
                await asyncio.sleep(0.01)


async def test_utf8_message_with_attachment_is_captured_and_parsed(smtp_sink: SmtpSink) -> None:
    await send(smtp_sink)

    [mail] = await smtp_sink.await_messages(1)
    assert mail.mail_from == "helpdesk-bot@corp.example"
    assert mail.rcpt_tos == ["itsm@corp.example"]
    assert mail.message["Subject"] == "[TG-7F3A2C] Не работает принтер"
    assert mail.message["Reply-To"] == "иван.петров@corp.example"
    body = mail.message.get_body(preferencelist=("plain",))
    assert body is not None
    assert body.get_content_charset() == "utf-8"
    assert "пустые листы" in body.get_content()
    [attachment] = mail.message.iter_attachments()
    assert attachment.get_filename() == "фото-1.jpg"
    assert attachment.get_content_type() == "image/jpeg"
    assert attachment.get_content() == PHOTO
    assert email.message_from_bytes(mail.raw, policy=email.policy.default)["Message-ID"] == (
        "<tg-7f3a2c@helpdesk.corp.example>"
    )
    assert not mail.tls
    assert mail.auth_login is None
    assert smtp_sink.transactions_attempted == smtp_sink.transactions_accepted == 1


def test_wait_for_blocks_until_a_stdlib_client_delivers(smtp_sink: SmtpSink) -> None:
    with pytest.raises(TimeoutError, match="expected 1 message"):
        smtp_sink.wait_for(1, timeout=0.2)
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5) as client:
        client.send_message(ticket_email(), to_addrs=["a@corp.example", "b@corp.example"])
    [mail] = smtp_sink.wait_for(1, timeout=5)
    assert mail.rcpt_tos == ["a@corp.example", "b@corp.example"]

    smtp_sink.clear()
    assert smtp_sink.messages == []
    assert smtp_sink.transactions_attempted == smtp_sink.transactions_accepted == 0


async def test_starttls_and_auth_with_the_sink_ca(smtp_sink_factory: SmtpSinkFactory) -> None:
    sink = smtp_sink_factory(
        starttls=True, require_starttls=True, auth=CREDENTIALS, auth_required=True
    )
    trusted = ssl.create_default_context(cafile=str(sink.ca_cert_pem_path))

    with pytest.raises(aiosmtplib.SMTPSenderRefused) as plaintext:
        await send(sink)
    assert plaintext.value.code == 530
    with pytest.raises(aiosmtplib.SMTPSenderRefused) as anonymous:
        await send(sink, start_tls=True, tls_context=trusted)
    assert anonymous.value.code == 530
    with pytest.raises(aiosmtplib.SMTPAuthenticationError) as wrong:
        await send(
            sink, start_tls=True, tls_context=trusted, username=CREDENTIALS[0], password="nope"
        )
    assert wrong.value.code == 535

    await send(
        sink,
        start_tls=True,
        tls_context=trusted,
        username=CREDENTIALS[0],
        password=CREDENTIALS[1],
    )
    [mail] = await sink.await_messages(1)
    assert mail.tls
    assert mail.auth_login == CREDENTIALS[0]


async def test_implicit_tls_and_auth(smtp_sink_factory: SmtpSinkFactory) -> None:
    sink = smtp_sink_factory(implicit_tls=True, auth=CREDENTIALS, auth_required=True)

    await send(
        sink,
        use_tls=True,
        tls_context=sink.client_tls_context(),
        username=CREDENTIALS[0],
        password=CREDENTIALS[1],
    )
    [mail] = await sink.await_messages(1)
    assert mail.tls
    assert mail.auth_login == CREDENTIALS[0]


@pytest.mark.parametrize("mode", ["starttls", "implicit_tls"])
async def test_untrusted_certificate_is_refused_by_a_default_context(
    smtp_sink_factory: SmtpSinkFactory, mode: str
) -> None:
    sink = smtp_sink_factory(starttls=mode == "starttls", implicit_tls=mode == "implicit_tls")
    system_trust_only = ssl.create_default_context()

    with pytest.raises((ssl.SSLCertVerificationError, aiosmtplib.SMTPConnectError)) as refused:
        await send(
            sink,
            start_tls=mode == "starttls",
            use_tls=mode == "implicit_tls",
            tls_context=system_trust_only,
        )
    cause = refused.value if isinstance(refused.value, ssl.SSLError) else refused.value.__cause__
    assert isinstance(cause, ssl.SSLCertVerificationError), repr(refused.value)
    assert sink.transactions_attempted == 0
    assert sink.messages == []


async def test_transient_failure_then_success_delivers_once(smtp_sink: SmtpSink) -> None:
    smtp_sink.fail_next(451, "4.3.0 Try again later")

    with pytest.raises(aiosmtplib.SMTPDataError) as failed:
        await send(smtp_sink)
    assert failed.value.code == 451
    assert smtp_sink.messages == []

    await send(smtp_sink)
    assert len(await smtp_sink.await_messages(1)) == 1
    assert smtp_sink.transactions_attempted == 2
    assert smtp_sink.transactions_accepted == 1


@pytest.mark.parametrize(
    ("stage", "code"),
    [("mail", 421), ("mail", 550), ("rcpt", 451), ("rcpt", 550), ("data", 552)],
)
async def test_injected_failure_surfaces_with_its_code(
    smtp_sink: SmtpSink, stage: FaultStage, code: int
) -> None:
    smtp_sink.fail_next(code, "injected", times=2, stage=stage)

    for _ in range(2):
        with pytest.raises(aiosmtplib.SMTPException) as failed:
            await send(smtp_sink)
        error = failed.value
        if stage == "mail":
            assert isinstance(error, aiosmtplib.SMTPSenderRefused)
        elif stage == "rcpt":
            assert isinstance(error, aiosmtplib.SMTPRecipientsRefused)
            [error] = error.recipients
        else:
            assert isinstance(error, aiosmtplib.SMTPDataError)
        assert isinstance(error, aiosmtplib.SMTPResponseException)
        assert (error.code, error.message) == (code, "injected")

    await send(smtp_sink)  # the third transaction is no longer faulted
    assert len(await smtp_sink.await_messages(1)) == 1
    assert (smtp_sink.transactions_attempted, smtp_sink.transactions_accepted) == (3, 1)


async def test_421_is_followed_by_the_server_hanging_up(smtp_sink: SmtpSink) -> None:
    smtp_sink.fail_next(421, "4.3.2 Shutting down", stage="rcpt")
    # A raw conversation: aiosmtplib itself closes on 421, which would hide what the server does.
    reader, writer = await asyncio.open_connection(smtp_sink.host, smtp_sink.port)
    try:
        assert (await reader.readline()).startswith(b"220 ")
        writer.write(b"HELO client.test\r\nMAIL FROM:<bot@corp.example>\r\n")
        writer.write(b"RCPT TO:<itsm@corp.example>\r\n")
        assert (await reader.readline()).startswith(b"250 ")
        assert await reader.readline() == b"250 OK\r\n"
        assert await reader.readline() == b"421 4.3.2 Shutting down\r\n"
        assert await asyncio.wait_for(reader.read(), timeout=5) == b""
    finally:
        writer.close()
        await writer.wait_closed()


async def test_dropped_connection_surfaces_as_disconnect(smtp_sink: SmtpSink) -> None:
    smtp_sink.drop_next()

    with pytest.raises(aiosmtplib.SMTPServerDisconnected):
        await send(smtp_sink)
    await send(smtp_sink)
    assert len(await smtp_sink.await_messages(1)) == 1
    assert (smtp_sink.transactions_attempted, smtp_sink.transactions_accepted) == (2, 1)


async def test_faults_are_used_in_order(smtp_sink: SmtpSink) -> None:
    smtp_sink.drop_next()
    smtp_sink.fail_next(451, "later", stage="rcpt")

    with pytest.raises(aiosmtplib.SMTPServerDisconnected):
        await send(smtp_sink)
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
        await send(smtp_sink)
    await send(smtp_sink)
    assert len(await smtp_sink.await_messages(1)) == 1


async def test_slow_data_times_the_client_out_and_captures_nothing(smtp_sink: SmtpSink) -> None:
    smtp_sink.delay(1.0)

    started = time.monotonic()
    with pytest.raises(aiosmtplib.SMTPTimeoutError):
        await send(smtp_sink, timeout=0.3)
    assert time.monotonic() - started < 0.9
    await asyncio.sleep(1.0)  # past the delay: a late capture would show now
    assert smtp_sink.messages == []

    smtp_sink.delay(0)
    await send(smtp_sink)
    assert len(await smtp_sink.await_messages(1)) == 1
    assert smtp_sink.transactions_attempted == 2


async def test_stop_refuses_connections_and_start_serves_the_same_port(
    smtp_sink: SmtpSink,
) -> None:
    await send(smtp_sink)
    port = smtp_sink.port
    idle = aiosmtplib.SMTP(hostname=smtp_sink.host, port=port, start_tls=False)
    await idle.connect()

    smtp_sink.stop()  # must not hang on the open session
    assert not smtp_sink.running
    with pytest.raises(aiosmtplib.SMTPConnectError):
        await send(smtp_sink)
    with pytest.raises(aiosmtplib.SMTPServerDisconnected):
        await idle.noop()

    smtp_sink.start()
    assert smtp_sink.port == port
    await send(smtp_sink, ticket_email("[TG-000002] После перезапуска"))
    subjects = [m.message["Subject"] for m in await smtp_sink.await_messages(2)]
    assert subjects == ["[TG-7F3A2C] Не работает принтер", "[TG-000002] После перезапуска"]


def test_conflicting_options_are_rejected() -> None:
    with pytest.raises(ValueError, match="not both"):
        SmtpSink(starttls=True, implicit_tls=True)
    with pytest.raises(ValueError, match="over TLS"):
        SmtpSink(auth=CREDENTIALS)
    with pytest.raises(ValueError, match="needs auth"):
        SmtpSink(auth_required=True)
    with pytest.raises(RuntimeError, match="no TLS"):
        _ = SmtpSink().ca_cert_pem_path


def test_runs_as_a_process_writing_eml_files(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    port = free_port()
    argv = [sys.executable, "-m", "helpdesk_harness.smtp_sink", "--port", str(port)]
    server = ServerProcess(
        [*argv, "--spool", str(spool)],
        log_path=tmp_path / "smtp-sink.log",
        cwd=REPO_ROOT,
    )
    server.start()
    try:
        wait_for_port(port)
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
            client.send_message(ticket_email())
        deadline = time.monotonic() + 5
        while not (files := sorted(spool.glob("*.eml"))) and time.monotonic() < deadline:
            time.sleep(0.02)
        [eml] = files
        parsed = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        assert parsed["Subject"] == "[TG-7F3A2C] Не работает принтер"
        server.signal(signal.SIGTERM)
        assert server.proc is not None
        assert server.proc.wait(timeout=10) == 0, server.log_text()
    finally:
        server.stop()
