"""Settings every service shares (broker, database, logging), read from `HELPDESK_*`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRETS_DIR = Path("/run/secrets")

DEFAULT_RETRY_LIMIT = 8
"""Delayed retries of one message before it is dead-lettered (about 43 minutes with the tiers)."""


def secrets_dir() -> Path | None:
    """Docker/Kubernetes secret files, when the directory exists (pydantic warns otherwise)."""
    return SECRETS_DIR if SECRETS_DIR.is_dir() else None


class InfraSettings(BaseSettings):
    """Connection and runtime settings shared by all services."""

    model_config = SettingsConfigDict(
        env_prefix="HELPDESK_", secrets_dir=secrets_dir(), extra="ignore", frozen=True
    )

    rabbit_url: SecretStr = Field(
        default=SecretStr("amqp://guest:guest@127.0.0.1:5672/"),
        description="AMQP URL including credentials and vhost.",
    )
    mongo_url: SecretStr = Field(
        default=SecretStr("mongodb://127.0.0.1:27017/"), description="MongoDB connection string."
    )
    mongo_db: str = Field(default="helpdesk", min_length=1, max_length=63)
    mongo_timeout_ms: int = Field(default=5000, ge=100)
    publish_timeout_seconds: float = Field(default=10.0, gt=0)
    prefetch: int = Field(default=16, ge=1, le=1000)
    graceful_timeout_seconds: float = Field(default=15.0, gt=0)
    retry_limit: int = Field(
        default=DEFAULT_RETRY_LIMIT,
        ge=0,
        le=100,
        description="Delayed retries of a message after transient failures before it is "
        "dead-lettered; the same for every service.",
    )
    http_host: str = Field(
        default="127.0.0.1", description="Address of /health, /ready, /metrics (0.0.0.0 in images)."
    )
    http_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Port of the ops endpoints; 0 (default) turns them off. Images set 8080.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"
