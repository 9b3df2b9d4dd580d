"""Settings of the mailer service: `MAILER_*` environment variables (and /run/secrets files)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from helpdesk_contracts.runtime.settings import InfraSettings, secrets_dir


class MailerSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MAILER_", secrets_dir=secrets_dir(), extra="ignore", frozen=True
    )

    infra: InfraSettings = Field(default_factory=InfraSettings)
