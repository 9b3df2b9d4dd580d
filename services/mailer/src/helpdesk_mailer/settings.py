"""Settings of the mailer service: `MAILER_*` environment variables (and /run/secrets files).

Lists (`MAILER_TICKET_TO`, `MAILER_TICKET_CC`) accept a JSON array or comma-separated addresses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from helpdesk_contracts.base import EmailAddress
from helpdesk_contracts.ticket.v1 import ATTACHMENT_MAX_BYTES
from helpdesk_runtime.settings import InfraSettings, secrets_dir
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Security = Literal["tls", "starttls", "none"]

_DEFAULT_PORTS: dict[Security, int] = {"tls": 465, "starttls": 587, "none": 25}


def _split_addresses(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class MailerSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MAILER_", secrets_dir=secrets_dir(), extra="ignore", frozen=True
    )

    infra: InfraSettings = Field(default_factory=InfraSettings)

    # --- SMTP connection -----------------------------------------------------------------
    smtp_host: str = Field(min_length=1, description="The relay's host name or IP address.")
    smtp_port: int | None = Field(
        default=None, ge=1, le=65535, description="Default: 465 (tls), 587 (starttls), 25 (none)."
    )
    smtp_security: Security = Field(
        default="starttls",
        description="tls: implicit TLS; starttls: STARTTLS required; none: plain (local use only).",
    )
    smtp_ca_file: Path | None = Field(
        default=None, description="PEM bundle of CAs to trust instead of the system store."
    )
    smtp_username: str | None = Field(default=None, description="AUTH user; no AUTH if unset.")
    smtp_password: SecretStr | None = None
    smtp_local_hostname: str | None = Field(
        default=None, description="Name sent in EHLO. Default: the Message-ID domain."
    )
    smtp_connect_timeout_seconds: float = Field(default=15.0, gt=0)
    smtp_command_timeout_seconds: float = Field(default=60.0, gt=0)
    smtp_idle_seconds: float = Field(
        default=30.0,
        ge=0,
        description="A pooled connection idle longer than this is closed and opened afresh.",
    )
    smtp_pool_size: int = Field(
        default=4,
        ge=1,
        le=32,
        description="SMTP connections used at most at once; under light load only one is open. "
        "Keep it within the relay's per-client connection limit.",
    )

    # --- addresses -------------------------------------------------------------------------
    from_address: EmailAddress = Field(description="The bot mailbox.")
    from_name: str = Field(default="Helpdesk Telegram bot", max_length=128)
    from_mode: Literal["bot", "employee"] = Field(
        default="bot", description="Whose address goes in From of ticket emails."
    )
    envelope_from: EmailAddress | None = Field(
        default=None, description="SMTP MAIL FROM (bounces). Default: from_address."
    )
    ticket_to: Annotated[list[EmailAddress], NoDecode] = Field(min_length=1, max_length=20)
    ticket_cc: Annotated[list[EmailAddress], NoDecode] = Field(default_factory=list, max_length=20)
    message_id_domain: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9.-]{1,253}$",
        description="Right-hand side of Message-IDs. Default: the from_address domain.",
    )

    # --- composition -----------------------------------------------------------------------
    templates_dir: Path | None = Field(
        default=None, description="Operator templates; a file here replaces the packaged one."
    )
    html_body: bool = Field(default=False, description="Add a text/html alternative.")
    subject_summary_max_length: int = Field(default=100, ge=10, le=500)
    time_zone: str = Field(default="Europe/Moscow")
    attachment_max_bytes: int = Field(default=ATTACHMENT_MAX_BYTES, gt=0)
    message_max_bytes: int = Field(
        default=10_000_000,
        ge=100_000,
        description="Photos that would make the email larger than this are listed, not attached.",
    )

    # --- retries and idempotency -------------------------------------------------------------
    retry_base_seconds: float = Field(default=2.0, gt=0)
    retry_max_delay_seconds: float = Field(default=600.0, gt=0)
    ticket_retry_total_seconds: float = Field(
        default=86_400.0, gt=0, description="How long a ticket email is retried before giving up."
    )
    mail_retry_total_seconds: float = Field(
        default=600.0, gt=0, description="The same for SendMail (codes expire quickly)."
    )
    send_lease_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How long a delivery in progress blocks another delivery of the same mail "
        "(another replica, a duplicate message, a redelivery after a crash).",
    )
    log_retention_days: int = Field(
        default=90, ge=1, description="outgoing_mail records expire this long after the outcome."
    )

    @field_validator("ticket_to", "ticket_cc", mode="before")
    @classmethod
    def _addresses(cls, value: Any) -> Any:
        return _split_addresses(value)

    @field_validator("from_address", "envelope_from", "ticket_to", "ticket_cc")
    @classmethod
    def _ascii(cls, value: str | list[str] | None) -> str | list[str] | None:
        # Headers and the SMTP envelope need SMTPUTF8 for anything else; refuse it up front
        # rather than failing every email.
        for address in [value] if isinstance(value, str) else value or []:
            if not address.isascii():
                raise ValueError(f"{address!r} is not an ASCII address")
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _auth_pair(self) -> MailerSettings:
        if (self.smtp_username is None) != (self.smtp_password is None):
            raise ValueError("set both MAILER_SMTP_USERNAME and MAILER_SMTP_PASSWORD, or neither")
        return self

    @property
    def port(self) -> int:
        return self.smtp_port or _DEFAULT_PORTS[self.smtp_security]

    @property
    def domain(self) -> str:
        return self.message_id_domain or self.from_address.rpartition("@")[2]

    @property
    def sender(self) -> str:
        return self.envelope_from or self.from_address

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)
