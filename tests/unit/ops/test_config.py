"""Start-up refuses bad settings with one line per problem, naming the variable, never the value."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpdesk_runtime.config import (
    EX_CONFIG,
    env_variables,
    is_placeholder,
    load_settings,
    settings_problems,
)
from helpdesk_runtime.settings import InfraSettings
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from tests.support import REPO_ROOT


class DemoSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", extra="ignore", frozen=True)

    infra: InfraSettings = Field(default_factory=InfraSettings)
    token: SecretStr
    host: str = Field(min_length=1)
    port: int = Field(default=25, ge=1, le=65535)
    recipients: list[str] = Field(default_factory=list)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("DEMO_", "HELPDESK_")):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(
    "value",
    [
        "changeme",
        "CHANGE_ME",
        "change-me-please",
        "Replace_Me",
        "<bot token from @BotFather>",
        "amqp://helpdesk:<password>@rabbitmq:5672/",
        "  <secret>  ",
    ],
)
def test_placeholders_are_recognised(value: str) -> None:
    assert is_placeholder(value)


@pytest.mark.parametrize(
    "value",
    [
        "123456:AAE-real-token",
        "amqp://helpdesk:s3cret@rabbitmq:5672/",
        "Helpdesk <helpdesk@example.com>",
        "(&(objectClass=person)(mail={email}))",
        "exchange-mechanic",
        "",
    ],
)
def test_real_values_are_not_placeholders(value: str) -> None:
    assert not is_placeholder(value)


def test_every_problem_is_reported_at_once_without_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HELPDESK_PREFETCH", "0")  # the shared settings are wrong too
    monkeypatch.setenv("DEMO_PORT", "99999")
    monkeypatch.setenv("DEMO_HOST", "")
    settings, problems = settings_problems(DemoSettings)
    assert settings is None
    assert problems == [
        "HELPDESK_PREFETCH: Input should be greater than or equal to 1",
        "DEMO_TOKEN: required but not set",
        "DEMO_HOST: String should have at least 1 character",
        "DEMO_PORT: Input should be less than or equal to 65535",
    ]
    assert not any("99999" in line for line in problems)


def test_placeholders_are_reported_by_variable_name_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_TOKEN", "<paste the token here>")
    monkeypatch.setenv("DEMO_HOST", "smtp.example.com")
    monkeypatch.setenv("DEMO_RECIPIENTS", '["itsm@example.com", "CHANGE_ME@example.com"]')
    monkeypatch.setenv("HELPDESK_RABBIT_URL", "amqp://helpdesk:changeme@rabbitmq:5672/")
    settings, problems = settings_problems(DemoSettings)
    assert settings is not None
    assert problems == [
        "HELPDESK_RABBIT_URL: still a placeholder value; set the real one",
        "DEMO_TOKEN: still a placeholder value; set the real one",
        "DEMO_RECIPIENTS: still a placeholder value; set the real one",
    ]


def test_good_settings_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_TOKEN", "123456:AAE-real-token")
    monkeypatch.setenv("DEMO_HOST", "smtp.example.com")
    monkeypatch.setenv("HELPDESK_MONGO_DB", "helpdesk_prod")
    settings = load_settings(DemoSettings)
    assert settings.host == "smtp.example.com"
    assert settings.infra.mongo_db == "helpdesk_prod"


def test_env_variables_include_the_shared_ones_under_their_prefix() -> None:
    names = {v.name: v for v in env_variables(DemoSettings)}
    assert {"DEMO_TOKEN", "DEMO_HOST", "DEMO_PORT", "DEMO_RECIPIENTS"} <= set(names)
    assert "HELPDESK_RABBIT_URL" in names and "DEMO_INFRA" not in names
    assert names["DEMO_TOKEN"].required and names["DEMO_TOKEN"].secret
    assert not names["DEMO_PORT"].required and not names["DEMO_PORT"].secret
    assert names["HELPDESK_RABBIT_URL"].secret


def _load_demo_settings(**extra_env: str) -> subprocess.CompletedProcess[str]:
    code = (
        "from helpdesk_runtime.config import load_settings\n"
        "from tests.unit.ops.test_config import DemoSettings\n"
        "load_settings(DemoSettings, program='helpdesk-demo')\n"
    )
    env = {"PATH": "/usr/bin:/bin", "DEMO_TOKEN": "CHANGE_ME", "DEMO_HOST": "mail", **extra_env}
    env["HELPDESK_MONGO_URL"] = "mongodb://user:hunter2-secret@db/"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_process_exits_78_with_one_text_line_per_problem() -> None:
    """What an operator reads in a terminal: the program, then one line per variable."""
    done = _load_demo_settings(HELPDESK_LOG_FORMAT="text")
    assert done.returncode == EX_CONFIG
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "helpdesk-demo: cannot start, fix these settings (environment or /run/secrets):",
        "helpdesk-demo: DEMO_TOKEN: still a placeholder value; set the real one",
    ]
    assert "hunter2" not in done.stderr


def test_with_json_logs_the_process_exits_78_with_one_json_line() -> None:
    """What a log collector reads from `docker logs` (JSON is the default): one JSON line."""
    done = _load_demo_settings()
    assert done.returncode == EX_CONFIG
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["level"] == "critical" and line["service"] == "demo"
    assert line["message"].startswith("cannot start, fix these settings")
    assert line["problems"] == ["DEMO_TOKEN: still a placeholder value; set the real one"]
    assert "hunter2" not in done.stderr
