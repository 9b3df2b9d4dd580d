"""Settings of the inbox service: `INBOX_*` environment variables (and /run/secrets files)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal, Self

from helpdesk_runtime.settings import InfraSettings, secrets_dir
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from helpdesk_inbox.adapters.pop3 import Pop3Config
from helpdesk_inbox.senders import SenderSettings
from helpdesk_inbox.trust import parse_sender_list

DEFAULT_PORTS = {"pop3s": 995, "starttls": 110, "plain": 110}
MAX_MESSAGE_BYTES_CAP = 15 * 1024 * 1024
"""A quarantined mail is stored whole in one MongoDB document (16 MB at most)."""


class InboxSettings(SenderSettings):
    model_config = SettingsConfigDict(
        env_prefix="INBOX_", secrets_dir=secrets_dir(), extra="ignore", frozen=True
    )

    infra: InfraSettings = Field(default_factory=InfraSettings)

    pop3_host: str = Field(min_length=1, description="POP3 server of the helpdesk mailbox.")
    pop3_port: int | None = Field(
        default=None, ge=1, le=65535, description="Default: 995 for pop3s, 110 otherwise."
    )
    pop3_security: Literal["pop3s", "starttls", "plain"] = Field(
        default="pop3s",
        description="pop3s: TLS from the start; starttls: plain then STLS (refused if the "
        "server cannot); plain: no TLS at all (only on a trusted network).",
    )
    pop3_user: str = Field(min_length=1)
    pop3_password: SecretStr
    pop3_ca_file: Path | None = Field(
        default=None,
        description="PEM file of CAs to trust besides the system ones (a private CA).",
    )
    pop3_connect_timeout_seconds: float = Field(default=15.0, gt=0)
    pop3_timeout_seconds: float = Field(
        default=60.0, gt=0, description="Timeout of each read from the server."
    )
    mailbox_name: str | None = Field(
        default=None,
        max_length=320,
        description="Name the mailbox's seen UIDLs and quarantine are stored under; "
        "default <user>@<host>. Keep it when the server's address changes.",
    )
    poll_enabled: bool = Field(
        default=True,
        description="Take part in polling the mailbox (replicas take turns through a lease); "
        "false: this instance never polls, it only learns ticket emails.",
    )
    poll_interval_seconds: float = Field(default=60.0, gt=0)
    poll_lease_seconds: float | None = Field(
        default=None,
        gt=0,
        description="Replicas share the mailbox through a lease in MongoDB: one polls, the "
        "others stand by and take over when it stops, or when its lease runs out this long "
        "after its last poll. Default: 3 x the poll interval, at least 30 s.",
    )
    max_messages_per_poll: int = Field(
        default=200, ge=1, description="New messages read in one session; the rest next poll."
    )
    max_message_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        le=MAX_MESSAGE_BYTES_CAP,
        description="Larger messages are not downloaded: their headers (TOP) are quarantined "
        "and the message stays on the server.",
    )
    delete_after_processing: bool = Field(
        default=False,
        description="DELE a message once the event it caused is confirmed by the broker "
        "(deferred and oversized messages are never deleted).",
    )
    confirm_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How long a session waits for events to be confirmed before DELE; the "
        "rest is deleted in a later session.",
    )
    baseline_existing: bool = Field(
        default=False,
        description="On the very first poll of a mailbox, take the messages already there as "
        "seen without reading them (attaching the bot to a mailbox with old mail).",
    )
    match_grace_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="A mail with a token, reply headers or a number that matches no known "
        "ticket is read again each poll for this long (the TicketEmailed that teaches the "
        "inbox its ticket may still be on its way), then quarantined.",
    )
    rules_file: Path | None = Field(
        default=None,
        description="Parser rules (.toml or .json); default: the shipped rules. Read again on "
        "SIGHUP.",
    )

    @model_validator(mode="after")
    def _senders_are_set(self) -> Self:
        try:
            senders = parse_sender_list(self.trusted_senders)
        except ValueError as exc:
            raise ValueError(f"INBOX_TRUSTED_SENDERS: {exc}") from None
        if not senders and not self.trust_any_sender:
            raise ValueError(
                "INBOX_TRUSTED_SENDERS is required: the addresses (or @domains) InfraManager "
                "sends notifications from. Set INBOX_TRUST_ANY_SENDER=true only if nobody "
                "else can write to the mailbox."
            )
        return self

    @model_validator(mode="after")
    def _lease_outlives_interval(self) -> Self:
        if self.poll_lease_seconds is not None and (
            self.poll_lease_seconds <= self.poll_interval_seconds
        ):
            raise ValueError(
                "INBOX_POLL_LEASE_SECONDS must be longer than INBOX_POLL_INTERVAL_SECONDS "
                "(the poller renews its lease once per poll)"
            )
        return self

    @property
    def poll_lease(self) -> timedelta:
        seconds = self.poll_lease_seconds or max(3 * self.poll_interval_seconds, 30.0)
        return timedelta(seconds=seconds)

    @property
    def mailbox(self) -> str:
        return self.mailbox_name or f"{self.pop3_user}@{self.pop3_host}"

    def pop3(self) -> Pop3Config:
        return Pop3Config(
            host=self.pop3_host,
            port=self.pop3_port or DEFAULT_PORTS[self.pop3_security],
            security=self.pop3_security,
            user=self.pop3_user,
            password=self.pop3_password.get_secret_value(),
            ca_file=self.pop3_ca_file,
            connect_timeout=self.pop3_connect_timeout_seconds,
            read_timeout=self.pop3_timeout_seconds,
            max_line=self.max_message_bytes + 2,
        )
