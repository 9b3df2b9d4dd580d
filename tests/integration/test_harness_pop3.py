"""The private Dovecot harness behaves like a real POP3 mailbox, seen through poplib."""

from __future__ import annotations

import poplib
import re
import ssl
import time
from email.header import Header
from pathlib import Path

import pytest
from helpdesk_harness.pop3_server import ConfigPaths, DovecotServer, render_config

pytestmark = pytest.mark.integration

KOI8_BODY = "Заявка 12345 зарегистрирована. Статус: В работе"


def koi8r_message() -> bytes:
    subject = Header("Заявка 12345 Не печатает принтер", "koi8-r").encode()
    head = (
        "From: InfraManager <im@example.com>\n"
        "To: helpdesk@example.com\n"
        f"Subject: {subject}\n"
        "Message-ID: <im-12345@example.com>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=koi8-r\n"
        "Content-Transfer-Encoding: 8bit\n"
        "\n"
    )
    return head.encode("ascii") + f"{KOI8_BODY}\n".encode("koi8-r")


def numbered(n: int, prefix: str) -> bytes:
    return f"Subject: {prefix} {n}\nMessage-ID: <{prefix}-{n}@example.com>\n\nbody {n}\n".encode()


def login(server: DovecotServer, user: str | None = None) -> poplib.POP3:
    client = poplib.POP3(server.host, server.pop3_port, timeout=10)
    client.user(user or server.user)
    client.pass_(server.password)
    return client


def as_bytes(lines: list[bytes]) -> bytes:
    """RETR lines back into the message as stored (LF line ends in the Maildir)."""
    return b"".join(line + b"\n" for line in lines)


def uidls(client: poplib.POP3) -> list[bytes]:
    return [entry.split()[1] for entry in client.uidl()[1]]


def test_plain_login_uidl_and_retr_return_the_stored_bytes(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    raw = koi8r_message()
    dovecot.deliver(raw, user=user)

    client = login(dovecot, user)
    assert client.stat() == (1, len(raw) + raw.count(b"\n"))  # sizes count CRLF line ends
    assert len(uidls(client)) == 1
    body = client.retr(1)[1]
    client.quit()

    assert as_bytes(body) == raw
    assert KOI8_BODY in as_bytes(body).decode("koi8-r")


def test_wrong_password_is_refused_at_once(dovecot: DovecotServer) -> None:
    client = poplib.POP3(dovecot.host, dovecot.pop3_port, timeout=10)
    client.user(dovecot.user)
    started = time.monotonic()
    with pytest.raises(poplib.error_proto, match="ERR"):
        client.pass_("not-the-password")
    assert time.monotonic() - started < 1.0  # auth_failure_delay = 0
    client.close()


def test_dele_and_quit_remove_the_message(dovecot_fresh: DovecotServer) -> None:
    dovecot_fresh.deliver_many([numbered(1, "keep"), numbered(2, "drop")])

    client = login(dovecot_fresh)
    client.dele(2)
    client.quit()

    assert dovecot_fresh.message_count() == 1
    assert dovecot_fresh.messages() == [numbered(1, "keep")]
    client = login(dovecot_fresh)
    assert client.stat()[0] == 1
    client.quit()


def test_stls_with_the_harness_ca(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    dovecot.deliver(b"Subject: over stls\n\nsecret\n", user=user)

    client = poplib.POP3(dovecot.host, dovecot.pop3_port, timeout=10)
    assert "STLS" in client.capa()
    client.stls(context=ssl.create_default_context(cafile=str(dovecot.ca_cert_pem_path)))
    client.user(user)
    client.pass_(dovecot.password)
    assert client.retr(1)[1][-1] == b"secret"
    client.quit()


def test_pop3s_is_trusted_only_with_the_harness_ca(dovecot: DovecotServer) -> None:
    trusted = ssl.create_default_context(cafile=str(dovecot.ca_cert_pem_path))
    client = poplib.POP3_SSL(dovecot.host, dovecot.pop3s_port, context=trusted, timeout=10)
    client.user(dovecot.user)
    client.pass_(dovecot.password)
    client.quit()

    with pytest.raises(ssl.SSLCertVerificationError):
        poplib.POP3_SSL(
            dovecot.host, dovecot.pop3s_port, context=ssl.create_default_context(), timeout=10
        )


def test_stopped_server_refuses_and_restart_keeps_mail_and_uidls(
    dovecot_fresh: DovecotServer,
) -> None:
    dovecot_fresh.deliver(koi8r_message())
    client = login(dovecot_fresh)
    before = uidls(client)
    client.quit()

    dovecot_fresh.stop()
    with pytest.raises(ConnectionRefusedError):
        poplib.POP3(dovecot_fresh.host, dovecot_fresh.pop3_port, timeout=5)
    with pytest.raises(ConnectionRefusedError):
        poplib.POP3(dovecot_fresh.host, dovecot_fresh.pop3s_port, timeout=5)

    dovecot_fresh.start()
    client = login(dovecot_fresh)
    assert uidls(client) == before
    assert as_bytes(client.retr(1)[1]) == koi8r_message()
    client.quit()


def test_thousands_of_old_messages_and_only_new_ones_retrieved(
    dovecot_fresh: DovecotServer,
) -> None:
    started = time.monotonic()
    dovecot_fresh.deliver_many(numbered(n, "old") for n in range(5000))
    dovecot_fresh.deliver_many(numbered(n, "new") for n in range(3))
    # Typically under a second; generous for a loaded shared machine.
    assert time.monotonic() - started < 15
    assert dovecot_fresh.message_count() == 5003

    client = login(dovecot_fresh)
    assert client.stat()[0] == 5003
    # Delivery order is POP3 order: the three new messages are the last three.
    subjects = [client.retr(n)[1][0] for n in (5001, 5002, 5003)]
    client.top(1, 0)  # TOP is logged apart from RETR
    client.quit()
    assert subjects == [b"Subject: new 0", b"Subject: new 1", b"Subject: new 2"]

    # A client that vanishes without QUIT is still accounted for.
    client = login(dovecot_fresh)
    client.retr(1)
    client.file.close()
    client.sock.close()

    sessions = dovecot_fresh.wait_for_logouts(2, user=dovecot_fresh.user)
    assert [(s.reason, s.retr, s.top) for s in sessions] == [
        ("Logged out", 3, 1),
        ("Connection closed", 1, 0),
    ]
    assert dovecot_fresh.retr_count(dovecot_fresh.user) == 4
    assert dovecot_fresh.retr_count("nobody-else@example.com") == 0


def test_users_added_while_running_log_in_at_once(dovecot: DovecotServer) -> None:
    # Several within one second: Dovecot re-checks a passwd-file at most once a second.
    for n in range(3):
        user = dovecot.add_user(password=f"secret-{n}")
        dovecot.deliver(numbered(n, "own"), user=user)

        client = poplib.POP3(dovecot.host, dovecot.pop3_port, timeout=10)
        client.user(user)
        client.pass_(f"secret-{n}")
        assert client.retr(1)[1][0] == f"Subject: own {n}".encode()
        client.quit()


# The 2.4 branch cannot run on Debian 12, so its text is checked here (and was run by hand
# on Dovecot 2.4.1 with HELPDESK_DOVECOT pointing into a Debian 13 chroot).

PATHS = ConfigPaths(Path("/srv/t"))


def test_dovecot_24_config_starts_with_versions_and_uses_new_names() -> None:
    text = render_config((2, 4, 1), PATHS, pop3_port=1110, pop3s_port=1995)
    settings = [line.strip() for line in text.splitlines() if line.strip()]

    assert settings[:2] == ["dovecot_config_version = 2.4.0", "dovecot_storage_version = 2.4.0"]
    for expected in (
        "auth_allow_cleartext = yes",
        "ssl_server_cert_file = /srv/t/server-chain.pem",
        "ssl_server_key_file = /srv/t/server-key.pem",
        "mail_driver = maildir",
        "mail_path = ~/Maildir",
        "passdb passwd-file {",
        "userdb passwd-file {",
        "passwd_file_path = /srv/t/users/%{user}",
        "port = 1110",
        "port = 1995",
        "auth_failure_delay = 0",
    ):
        assert expected in settings
    for removed in ("disable_plaintext_auth", "ssl_cert ", "ssl_key ", "mail_location", "args ="):
        assert removed not in text
    assert "<" not in text  # 2.4 file settings take a plain path
    assert not re.search(r"%[a-zA-Z]", text)  # one-letter %variables are gone in 2.4


def test_dovecot_23_config_uses_old_names() -> None:
    text = render_config((2, 3, 19), PATHS, pop3_port=1110, pop3s_port=1995)

    assert "dovecot_config_version" not in text
    assert "disable_plaintext_auth = no" in text
    assert "ssl_cert = </srv/t/server-chain.pem" in text
    assert "mail_location = maildir:~/Maildir" in text
    assert "args = scheme=PLAIN /srv/t/users/%u" in text


@pytest.mark.parametrize("version", [(2, 3, 19), (2, 4, 1)])
def test_config_blocks_span_lines(version: tuple[int, int, int]) -> None:
    text = render_config(version, PATHS, pop3_port=1110, pop3s_port=1995)
    text = re.sub(r"%\{[^}]*\}", "", text)  # variables are not blocks
    assert not re.search(r"\{[^\n]*\}", text)
    assert text.count("{") == text.count("}")
