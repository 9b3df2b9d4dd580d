"""Settings: the bot token is required; webhook mode needs its URL and secret."""

from __future__ import annotations

import pytest
from helpdesk_gateway.settings import GatewaySettings
from helpdesk_runtime.settings import InfraSettings
from pydantic import ValidationError


def test_the_bot_token_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATEWAY_BOT_TOKEN", raising=False)
    with pytest.raises(ValidationError, match="bot_token"):
        GatewaySettings()


def test_defaults_follow_telegram_and_infra_manager(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_BOT_TOKEN", "123:abc")
    settings = GatewaySettings()
    assert settings.telegram_api_base == "https://api.telegram.org"
    assert settings.mode == "polling"
    # Under InfraManager's default "2 MB" whichever megabyte it means, with a margin.
    assert 1_800_000 <= settings.attachment_max_bytes < 2_000_000
    assert settings.max_photos == 10
    assert "abc" not in repr(settings)


def test_webhook_mode_needs_a_url_and_a_secret() -> None:
    with pytest.raises(ValidationError, match="GATEWAY_WEBHOOK_URL"):
        GatewaySettings(bot_token="123:abc", mode="webhook")  # type: ignore[arg-type]
    settings = GatewaySettings(
        bot_token="123:abc",  # type: ignore[arg-type]
        mode="webhook",
        webhook_url="https://bot.example.com/telegram/webhook",
        webhook_secret="s3cret-token",  # type: ignore[arg-type]
    )
    assert settings.webhook_secret is not None


def test_no_more_photos_than_the_contract_allows() -> None:
    with pytest.raises(ValidationError, match="max_photos"):
        GatewaySettings(bot_token="123:abc", max_photos=11)  # type: ignore[arg-type]


def test_the_webhook_does_not_take_the_ops_port() -> None:
    with pytest.raises(ValidationError, match="HELPDESK_HTTP_PORT"):
        GatewaySettings(
            bot_token="123:abc",  # type: ignore[arg-type]
            mode="webhook",
            webhook_url="https://bot.example.com/hook",
            webhook_secret="s3cret-token",  # type: ignore[arg-type]
            webhook_port=8080,
            infra=InfraSettings(http_port=8080),
        )
