"""Auth's settings: secure defaults and refusals that name the setting, never a secret."""

from __future__ import annotations

import os

import pytest
from helpdesk_auth import app
from helpdesk_auth.settings import AuthSettings
from pydantic import SecretStr, ValidationError

PEPPER = SecretStr("unit-test-pepper-0123456789")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AUTH_"):
            monkeypatch.delenv(name)


def test_defaults_follow_the_issue() -> None:
    settings = AuthSettings(code_pepper=PEPPER)
    assert settings.code_ttl_seconds == 600
    assert settings.resend_cooldown_seconds == 60
    assert settings.max_attempts_per_code == 5
    assert settings.enumeration_protection is True
    assert settings.recheck_interval_seconds == 3600  # issue 15: leavers lose access within an hour
    # Transport security is on unless turned off: LDAPS with certificate validation.
    assert settings.ldap_security == "ldaps"
    assert settings.ldap_verify_certificate is True
    assert settings.ldap_active_filter == "(!(employeeType=disabled))"


@pytest.mark.parametrize("pepper", [None, "", "short-secret-15"])
def test_a_missing_or_short_pepper_is_refused_without_echoing_it(pepper: str | None) -> None:
    values = {} if pepper is None else {"code_pepper": SecretStr(pepper)}
    with pytest.raises(ValidationError) as caught:
        AuthSettings(**values)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "AUTH_CODE_PEPPER is missing or shorter than 16 characters" in message
    if pepper:
        assert pepper not in message


def test_the_service_refuses_to_start_without_a_pepper(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AUTH_CODE_PEPPER", "tooshort")
    with pytest.raises(SystemExit) as caught:
        app.main()
    assert caught.value.code == 78  # EX_CONFIG: configuration error, not a crash
    said = capsys.readouterr().err
    assert "AUTH_CODE_PEPPER is missing or shorter than 16 characters" in said
    assert "tooshort" not in said


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH_CODE_PEPPER", "environment-pepper-0123")
    monkeypatch.setenv("AUTH_ALLOWED_EMAIL_DOMAINS", " Example.com, @corp.example.org ,")
    monkeypatch.setenv("AUTH_LDAP_URL", "ldap://dc1.example.com:389")
    monkeypatch.setenv("AUTH_LDAP_SECURITY", "starttls")
    monkeypatch.setenv(
        "AUTH_LDAP_ACTIVE_FILTER", "(!(userAccountControl:1.2.840.113556.1.4.803:=2))"
    )
    monkeypatch.setenv("AUTH_ENUMERATION_PROTECTION", "false")
    settings = AuthSettings()
    assert settings.code_pepper.get_secret_value() == "environment-pepper-0123"
    assert settings.allowed_email_domains == ("example.com", "corp.example.org")
    assert settings.ldap_security == "starttls"
    assert settings.enumeration_protection is False
    assert "environment-pepper" not in repr(settings)


@pytest.mark.parametrize(
    ("url", "security"),
    [
        ("ldap://dc1.example.com", "ldaps"),
        ("ldaps://dc1.example.com", "starttls"),
        ("ldaps://dc1.example.com", "plain"),
    ],
)
def test_the_url_scheme_must_match_the_transport(url: str, security: str) -> None:
    with pytest.raises(ValidationError, match="AUTH_LDAP_SECURITY"):
        AuthSettings(code_pepper=PEPPER, ldap_url=url, ldap_security=security)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "template",
    [
        "(mail=*)",
        "mail={email}",
        "(mail={email})(uid={email})",
        "(&(mail={email})",
        "(mail={email}))(",
    ],
)
def test_a_user_filter_must_be_one_filter_with_one_placeholder(template: str) -> None:
    with pytest.raises(ValidationError, match="AUTH_LDAP_USER_FILTER"):
        AuthSettings(code_pepper=PEPPER, ldap_user_filter=template)


def test_an_empty_active_filter_turns_the_check_off_and_a_broken_one_is_refused() -> None:
    assert AuthSettings(code_pepper=PEPPER, ldap_active_filter="").ldap_active_filter == ""
    with pytest.raises(ValidationError, match="AUTH_LDAP_ACTIVE_FILTER"):
        AuthSettings(code_pepper=PEPPER, ldap_active_filter="!(employeeType=disabled)")
