"""Inbox settings: what the environment must give, and the defaults derived from it."""

from __future__ import annotations

import pytest
from helpdesk_inbox.settings import InboxSettings
from pydantic import ValidationError

REQUIRED = {
    "INBOX_POP3_HOST": "pop.example.com",
    "INBOX_POP3_USER": "helpdesk@example.com",
    "INBOX_POP3_PASSWORD": "s3cret-pop3-password",
    "INBOX_TRUSTED_SENDERS": "im@example.com, @itsm.example.com",
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


def test_trusted_senders_are_required_unless_any_sender_is_trusted_on_purpose(
    env: pytest.MonkeyPatch,
) -> None:
    env.delenv("INBOX_TRUSTED_SENDERS")
    with pytest.raises(ValidationError, match="INBOX_TRUSTED_SENDERS is required"):
        InboxSettings()
    env.setenv("INBOX_TRUST_ANY_SENDER", "true")
    assert InboxSettings().sender_policy().trust_any is True


def test_a_bad_trusted_sender_entry_is_named(env: pytest.MonkeyPatch) -> None:
    env.setenv("INBOX_TRUSTED_SENDERS", "im@example.com, InfraManager")
    with pytest.raises(ValidationError, match="'InfraManager'"):
        InboxSettings()


def test_the_sender_policy_comes_from_the_environment(env: pytest.MonkeyPatch) -> None:
    env.setenv("INBOX_REQUIRE_AUTH_RESULTS", "pass")
    env.setenv("INBOX_AUTH_SERVER_IDS", "MX1.example.com")
    policy = InboxSettings().sender_policy()
    assert policy.senders == ("im@example.com", "@itsm.example.com")
    assert (policy.require_auth_results, policy.auth_server_ids) == ("pass", ("mx1.example.com",))
