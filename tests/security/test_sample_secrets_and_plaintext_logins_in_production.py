"""Threat: a production deployment runs on secrets everyone knows, or sends passwords in clear.

`.env.example` and the secret files of deploy/secrets.example ship working sample secrets for the
dev compose profile, and the dev servers take logins without TLS. With HELPDESK_ENV=production
every service refuses both at start (exit 78, one problem per variable, no value shown); a
plaintext login the operator explicitly allows with `*_ALLOW_PLAINTEXT=true` starts, with a
warning in the log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpdesk_runtime.config import (
    EX_CONFIG,
    SAMPLE_SECRETS,
    is_placeholder,
    settings_problems,
)

from tests.support import REPO_ROOT
from tests.unit.ops.deployment import (
    SECRETS_EXAMPLE,
    compose_secrets,
    read_env_example,
    service_settings,
)

SERVICES = ("gateway", "auth", "mailer", "inbox", "janitor")


def sample_env(service: str) -> dict[str, str]:
    """The dev profile's settings as an operator copies them: `.env` and the service's own
    secret files (deploy/secrets.example), with the one required blank filled."""
    env = read_env_example().active | compose_secrets(service)
    if service == "gateway":
        env["GATEWAY_BOT_TOKEN"] = "123456:a-real-looking-token"
    return env


def _use_samples(monkeypatch: pytest.MonkeyPatch, service: str) -> None:
    for name, value in sample_env(service).items():
        monkeypatch.setenv(name, value)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.split("_", 1)[0] in {"HELPDESK", "GATEWAY", "AUTH", "MAILER", "INBOX", "JANITOR"}:
            monkeypatch.delenv(name)


def test_every_sample_secret_of_env_example_is_known_to_the_check() -> None:
    secrets = {
        value
        for name, value in read_env_example().active.items()
        if any(word in name for word in ("PASS", "PEPPER", "SECRET", "TOKEN"))
        and not is_placeholder(value)
    }
    assert secrets <= SAMPLE_SECRETS


def test_every_sample_secret_file_holds_a_sample_known_to_the_check() -> None:
    files = [path for path in SECRETS_EXAMPLE.iterdir() if path.name != "README.md"]
    assert len(files) >= 10
    for path in files:
        value = path.read_text().strip()
        if is_placeholder(value):
            continue
        assert any(sample in value for sample in SAMPLE_SECRETS), path.name


def test_development_accepts_the_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    for service in ("auth", "mailer", "inbox"):
        with monkeypatch.context() as patch:
            _use_samples(patch, service)
            settings, problems = settings_problems(service_settings(service))
        assert settings is not None and problems == [], (service, problems)


def test_production_refuses_the_sample_secrets_and_every_plaintext_login(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found = {}
    for service in SERVICES:
        with monkeypatch.context() as patch:
            _use_samples(patch, service)
            patch.setenv("HELPDESK_ENV", "production")
            # The dev mail server takes no SMTP AUTH; a relay that does would get the password
            # in clear.
            patch.setenv("MAILER_SMTP_USERNAME", "helpdesk")
            patch.setenv("MAILER_SMTP_PASSWORD", "a-real-smtp-password")
            found[service] = settings_problems(service_settings(service))[1]
    sample = "the sample value from .env.example; HELPDESK_ENV=production needs a real secret"
    urls = [f"HELPDESK_RABBIT_URL: {sample}", f"HELPDESK_MONGO_URL: {sample}"]
    assert found["auth"] == [
        *urls,
        f"AUTH_CODE_PEPPER: {sample}",
        f"AUTH_LDAP_BIND_PASSWORD: {sample}",
        "AUTH_LDAP_SECURITY=plain sends the LDAP bind password in clear; HELPDESK_ENV=production "
        "refuses it: use TLS, or set AUTH_LDAP_ALLOW_PLAINTEXT=true to accept the risk",
    ]
    assert found["mailer"] == [
        *urls,
        "MAILER_SMTP_SECURITY=none sends the SMTP password in clear; HELPDESK_ENV=production "
        "refuses it: use TLS, or set MAILER_SMTP_ALLOW_PLAINTEXT=true to accept the risk",
    ]
    assert found["inbox"] == [
        *urls,
        f"INBOX_POP3_PASSWORD: {sample}",
        "INBOX_POP3_SECURITY=plain sends the POP3 password in clear; HELPDESK_ENV=production "
        "refuses it: use TLS, or set INBOX_POP3_ALLOW_PLAINTEXT=true to accept the risk",
    ]
    assert found["gateway"] == found["janitor"] == urls


def test_the_brokers_default_account_is_refused_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _use_samples(monkeypatch, "janitor")
    monkeypatch.setenv("HELPDESK_ENV", "production")
    monkeypatch.setenv("HELPDESK_RABBIT_URL", "amqp://guest:guest@rabbitmq:5672/")
    monkeypatch.setenv("HELPDESK_MONGO_URL", "mongodb://helpdesk-janitor:Xq7-real@mongodb:27017/")
    problems = settings_problems(service_settings("janitor"))[1]
    assert problems == [
        "HELPDESK_RABBIT_URL: the sample value from .env.example; HELPDESK_ENV=production "
        "needs a real secret"
    ]


def test_an_allowed_plaintext_login_starts_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _use_samples(monkeypatch, "inbox")
    monkeypatch.setenv("HELPDESK_ENV", "production")
    monkeypatch.setenv("HELPDESK_RABBIT_URL", "amqp://helpdesk-inbox:Xq7-real@rabbitmq:5672/")
    monkeypatch.setenv("HELPDESK_MONGO_URL", "mongodb://helpdesk-inbox:Xq7-real@mongodb:27017/")
    monkeypatch.setenv("INBOX_POP3_PASSWORD", "a-real-pop3-password")
    monkeypatch.setenv("INBOX_POP3_ALLOW_PLAINTEXT", "true")
    settings, problems = settings_problems(service_settings("inbox"))
    assert settings is not None and problems == []
    [warning] = [r for r in caplog.records if r.name == "helpdesk.config"]
    assert warning.levelname == "WARNING"
    assert warning.getMessage() == (
        "INBOX_POP3_ALLOW_PLAINTEXT=true: INBOX_POP3_SECURITY=plain sends the POP3 password in "
        "clear (allowed in production by this setting)"
    )


def test_the_auth_process_exits_78_naming_each_variable_and_no_value() -> None:
    """What an operator sees in `docker logs` when production starts on the samples."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **sample_env("auth")}
    env["HELPDESK_ENV"] = "production"
    env["HELPDESK_LOG_FORMAT"] = "json"
    done = subprocess.run(
        [sys.executable, "-m", "helpdesk_auth"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == EX_CONFIG, done.stderr
    [line] = [json.loads(text) for text in done.stderr.splitlines()]
    assert line["message"] == "cannot start, fix these settings (environment or /run/secrets)"
    named = [problem.split(": ", 1)[0] for problem in line["problems"]]
    assert named == [
        "HELPDESK_RABBIT_URL",
        "HELPDESK_MONGO_URL",
        "AUTH_CODE_PEPPER",
        "AUTH_LDAP_BIND_PASSWORD",
        "AUTH_LDAP_SECURITY=plain sends the LDAP bind password in clear; HELPDESK_ENV=production "
        "refuses it",
    ]
    for sample in SAMPLE_SECRETS:
        assert sample not in done.stderr
