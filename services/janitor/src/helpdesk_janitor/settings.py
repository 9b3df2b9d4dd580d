"""Settings of the janitor service: `JANITOR_*` environment variables (and /run/secrets files)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from helpdesk_contracts.runtime.settings import InfraSettings, secrets_dir


class JanitorSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="JANITOR_", secrets_dir=secrets_dir(), extra="ignore", frozen=True
    )

    infra: InfraSettings = Field(default_factory=InfraSettings)
