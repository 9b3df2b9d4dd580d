"""Settings of the gateway service: `GATEWAY_*` environment variables (and /run/secrets files)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from helpdesk_contracts.ticket.v1 import (
    ATTACHMENT_MAX_BYTES,
    MAX_ATTACHMENTS,
    MAX_DESCRIPTION_LENGTH,
    MAX_LOCATION_LENGTH,
)
from helpdesk_runtime.settings import InfraSettings, secrets_dir
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MiB = 1024 * 1024


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_", secrets_dir=secrets_dir(), extra="ignore", frozen=True
    )

    infra: InfraSettings = Field(default_factory=InfraSettings)

    # Telegram
    bot_token: SecretStr = Field(description="Bot token from @BotFather.")
    telegram_api_base: str = Field(
        default="https://api.telegram.org",
        description="Bot API server base URL (a local Bot API server or the test fake).",
    )
    mode: Literal["polling", "webhook"] = "polling"
    polling_timeout_seconds: int = Field(default=25, ge=0, le=50)
    webhook_url: str | None = Field(
        default=None, description="Public HTTPS URL Telegram posts updates to (webhook mode)."
    )
    webhook_secret: SecretStr | None = Field(
        default=None, description="Checked against X-Telegram-Bot-Api-Secret-Token."
    )
    webhook_host: str = "0.0.0.0"  # noqa: S104 - the webhook listens for Telegram on purpose
    webhook_port: int = Field(
        default=8081, ge=0, le=65535, description="Not 8080: the images serve /ready there."
    )
    webhook_path: str = "/telegram/webhook"
    telegram_request_timeout_seconds: float = Field(default=30.0, gt=0)

    # The wizard
    catalogue_path: Path | None = Field(
        default=None, description="Category catalogue (YAML); the bundled example when unset."
    )
    description_min_length: int = Field(default=5, ge=1)
    description_max_length: int = Field(
        default=MAX_DESCRIPTION_LENGTH, ge=1, le=MAX_DESCRIPTION_LENGTH
    )
    location_max_length: int = Field(default=MAX_LOCATION_LENGTH, ge=1, le=MAX_LOCATION_LENGTH)
    max_photos: int = Field(default=MAX_ATTACHMENTS, ge=0, le=MAX_ATTACHMENTS)
    attachment_max_bytes: int = Field(
        default=ATTACHMENT_MAX_BYTES,
        ge=64 * 1024,
        description="Re-encoded JPEG must fit this (InfraManager).",
    )
    photo_max_input_bytes: int = Field(
        default=20 * MiB, ge=1, description="Files above this are refused before download."
    )
    photo_max_pixels: int = Field(
        default=40_000_000, ge=1, description="Decompression-bomb guard (width x height)."
    )
    photo_max_side: int = Field(default=2560, ge=320, description="Longest side after re-encode.")
    album_quiet_seconds: float = Field(
        default=0.6, ge=0, description="How long to wait for the rest of an album."
    )
    draft_max_age_seconds: int = Field(
        default=86_400,
        ge=600,
        description="A ticket draft (and its photos) is dropped this long after it was started; "
        "keep it below the janitor's JANITOR_ABANDONED_HOURS.",
    )
    my_tickets_limit: int = Field(default=10, ge=1, le=50)

    # Personal data
    personal_data_grace_days: int = Field(
        default=30,
        ge=0,
        description="After `helpdesk-admin delete-user`, the person's data in their tickets "
        "(name, email, phone, Telegram ids, free text) is erased after this many days.",
    )
    ticket_retention_days: int = Field(
        default=365,
        ge=0,
        description="Tickets are deleted this many days after submission; 0 keeps them.",
    )
    display_timezone: str = Field(
        default="Europe/Moscow", description="Time zone of dates shown to users (IANA name)."
    )

    # Outgoing messages
    per_chat_rate: float = Field(default=1.0, gt=0, description="Sustained messages/s per chat.")
    per_chat_burst: int = Field(default=3, ge=1)
    global_rate: float = Field(default=30.0, gt=0, description="Messages/s for the whole bot.")
    global_burst: int = Field(default=30, ge=1)
    retry_after_max_seconds: float = Field(
        default=60.0, gt=0, description="Longer 429 pauses are not waited for inline."
    )
    send_attempts: int = Field(default=3, ge=1)
    notification_workers: int = Field(default=8, ge=1)

    # Rating and housekeeping
    rating_reminder_after_seconds: float = Field(default=24 * 3600, gt=0)
    rating_comment_timeout_seconds: float = Field(default=15 * 60, gt=0)
    # A ticket waiting for the requester (a question from IT support) reminds them once.
    waiting_reminder_after_seconds: float = Field(default=24 * 3600, gt=0)
    scheduler_interval_seconds: float = Field(default=60.0, gt=0)
    update_dedup_ttl_seconds: int = Field(default=2 * 24 * 3600, ge=60)
    broadcast_timeout_seconds: float = Field(default=3600.0, gt=0)

    @model_validator(mode="after")
    def _webhook_complete(self) -> Self:
        if self.mode == "webhook" and (not self.webhook_url or self.webhook_secret is None):
            raise ValueError("webhook mode needs GATEWAY_WEBHOOK_URL and GATEWAY_WEBHOOK_SECRET")
        if self.mode == "webhook" and self.webhook_port == self.infra.http_port:
            raise ValueError("GATEWAY_WEBHOOK_PORT must differ from HELPDESK_HTTP_PORT")
        if self.description_min_length > self.description_max_length:
            raise ValueError("description_min_length is above description_max_length")
        return self
