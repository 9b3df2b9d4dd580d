"""Inbox settings: what the environment must give, and the defaults derived from it."""

from __future__ import annotations

import pytest
from helpdesk_inbox.settings import InboxSettings
from pydantic import ValidationError

REQUIRED = {
    "INBOX_POP3_HOST": "pop.example.com",
    "INBOX_POP3_USER": "helpdesk@example.com",
    "INBOX_POP3_PASSWORD": "s3cret-pop3-password",
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for key, value in REQUIRED.items():
        monkeypatch.setenv(key, value)
    return monkeypatch


def test_defaults(env: pytest.MonkeyPatch) -> None:
    settings = InboxSettings()
    pop3 = settings.pop3()
    assert (pop3.security, pop3.port, pop3.ca_file) == ("pop3s", 995, None)
    assert settings.mailbox == "helpdesk@example.com@pop.example.com"
    assert settings.poll_interval_seconds == 60
    assert settings.delete_after_processing is False
    assert settings.rules_file is None
    assert "s3cret" not in repr(pop3) + repr(settings)


@pytest.mark.parametrize(("security", "port"), [("starttls", 110), ("plain", 110)])
def test_the_port_follows_the_security(env: pytest.MonkeyPatch, security: str, port: int) -> None:
    env.setenv("INBOX_POP3_SECURITY", security)
    assert InboxSettings().pop3().port == port


def test_a_mailbox_name_survives_a_server_move(env: pytest.MonkeyPatch) -> None:
    env.setenv("INBOX_MAILBOX_NAME", "helpdesk-replies")
    env.setenv("INBOX_POP3_PORT", "1995")
    settings = InboxSettings()
    assert (settings.mailbox, settings.pop3().port) == ("helpdesk-replies", 1995)


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_the_mailbox_must_be_configured(env: pytest.MonkeyPatch, missing: str) -> None:
    env.delenv(missing)
    with pytest.raises(ValidationError):
        InboxSettings()


def test_the_size_limit_fits_a_quarantine_document(env: pytest.MonkeyPatch) -> None:
    env.setenv("INBOX_MAX_MESSAGE_BYTES", str(20 * 1024 * 1024))
    with pytest.raises(ValidationError, match="max_message_bytes"):
        InboxSettings()
