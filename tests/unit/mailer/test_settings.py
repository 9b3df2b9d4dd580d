"""MAILER_* settings as an operator writes them."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpdesk_mailer.settings import MailerSettings
from pydantic import ValidationError

REQUIRED = {
    "MAILER_SMTP_HOST": "smtp.corp.example",
    "MAILER_FROM_ADDRESS": "helpdesk-bot@Corp.Example",
    "MAILER_TICKET_TO": "itsm@corp.example",
}


def from_env(monkeypatch: pytest.MonkeyPatch, **env: str) -> MailerSettings:
    for key, value in {**REQUIRED, **env}.items():
        monkeypatch.setenv(key, value)
    return MailerSettings()


def test_defaults_are_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = from_env(monkeypatch)
    assert settings.smtp_security == "starttls"
    assert settings.port == 587
    assert settings.from_mode == "bot"
    assert settings.sender == "helpdesk-bot@corp.example"
    assert settings.domain == "corp.example"
    # Under InfraManager's default "2 MB" whichever megabyte it means, with a margin.
    assert 1_800_000 <= settings.attachment_max_bytes < 2_000_000
    assert settings.ticket_to == ["itsm@corp.example"]
    assert settings.ticket_cc == []
    assert settings.html_body is False
    assert settings.zone.key == "Europe/Moscow"


def test_lists_take_commas_or_json(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = from_env(
        monkeypatch,
        MAILER_TICKET_TO="a@corp.example, b@corp.example",
        MAILER_TICKET_CC='["c@corp.example"]',
    )
    assert settings.ticket_to == ["a@corp.example", "b@corp.example"]
    assert settings.ticket_cc == ["c@corp.example"]


def test_port_follows_security(monkeypatch: pytest.MonkeyPatch) -> None:
    assert from_env(monkeypatch, MAILER_SMTP_SECURITY="tls").port == 465
    assert from_env(monkeypatch, MAILER_SMTP_SECURITY="none").port == 25
    assert from_env(monkeypatch, MAILER_SMTP_PORT="2525").port == 2525


def test_password_is_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = from_env(
        monkeypatch,
        MAILER_SMTP_USERNAME="bot",
        MAILER_SMTP_PASSWORD="pa55",
        MAILER_TEMPLATES_DIR=str(tmp_path),
    )
    assert settings.smtp_password is not None
    assert settings.smtp_password.get_secret_value() == "pa55"
    assert "pa55" not in repr(settings)
    assert settings.templates_dir == tmp_path


@pytest.mark.parametrize(
    "env",
    [
        {"MAILER_SMTP_USERNAME": "bot"},  # a user without a password
        {"MAILER_TIME_ZONE": "Mars/Olympus"},
        {"MAILER_TICKET_TO": "not an address"},
        {"MAILER_TICKET_CC": "поддержка@corp.example"},  # would need SMTPUTF8
        {"MAILER_TICKET_TO": ""},
        {"MAILER_SMTP_SECURITY": "ssl"},
        {"MAILER_MESSAGE_ID_DOMAIN": "bad domain>"},
    ],
)
def test_mistakes_are_refused_at_start_up(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    with pytest.raises(ValidationError):
        from_env(monkeypatch, **env)


def test_required_settings_are_required(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in REQUIRED:
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(ValidationError) as caught:
        MailerSettings()
    missing = {error["loc"][0] for error in caught.value.errors()}
    assert missing == {"smtp_host", "from_address", "ticket_to"}
