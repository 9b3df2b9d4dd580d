"""How the sandbox configures each service (no servers are started here)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpdesk_sandbox.stack import REAL_TELEGRAM_API, Sandbox, SandboxConfig, SandboxError


def test_real_telegram_token_points_the_gateway_at_telegram(tmp_path: Path) -> None:
    sandbox = Sandbox(SandboxConfig(workdir=tmp_path, telegram_token="123456:real-token"))

    env = sandbox.service_env("gateway")

    assert env["GATEWAY_TELEGRAM_API_BASE"] == REAL_TELEGRAM_API == "https://api.telegram.org"
    assert env["GATEWAY_BOT_TOKEN"] == "123456:real-token"
    assert env["HELPDESK_RABBIT_URL"] == sandbox.rabbit_url
    assert env["HELPDESK_MONGO_DB"] == sandbox.mongo_db
    assert sandbox.real_telegram


def test_overrides_come_last(tmp_path: Path) -> None:
    config = SandboxConfig(
        workdir=tmp_path,
        telegram_token="123456:real-token",
        service_env={"gateway": {"GATEWAY_PER_CHAT_RATE": "5", "HELPDESK_LOG_LEVEL": "DEBUG"}},
    )

    env = Sandbox(config).service_env("gateway")

    assert env["GATEWAY_PER_CHAT_RATE"] == "5"
    assert env["HELPDESK_LOG_LEVEL"] == "DEBUG"


def test_a_service_cannot_be_configured_before_its_stand_in_runs(tmp_path: Path) -> None:
    sandbox = Sandbox(SandboxConfig(workdir=tmp_path))

    with pytest.raises(SandboxError, match="fake Bot API"):
        sandbox.service_env("gateway")
    with pytest.raises(SandboxError, match="SMTP sink"):
        sandbox.service_env("mailer")
    assert sandbox.service_env("janitor")["HELPDESK_GRACEFUL_TIMEOUT_SECONDS"] == "5"
