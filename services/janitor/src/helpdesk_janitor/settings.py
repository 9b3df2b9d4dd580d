"""Settings of the janitor service: `JANITOR_*` environment variables (and /run/secrets files)."""

from __future__ import annotations

from datetime import timedelta

from helpdesk_contracts.photos import PHOTO_BUCKET
from helpdesk_contracts.ticket.v1 import TicketStatus
from helpdesk_runtime.settings import InfraSettings, secrets_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from helpdesk_janitor.policy import RetentionPolicy

_COLLECTION_NAME = r"^[A-Za-z_][A-Za-z0-9_.-]{0,119}$"
_FIELD_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"


class JanitorSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="JANITOR_", secrets_dir=secrets_dir(), extra="ignore", frozen=True
    )

    infra: InfraSettings = Field(default_factory=InfraSettings)

    interval_seconds: int = Field(
        default=3600,
        ge=0,
        description="Seconds between scheduled runs, counted from the last real run; 0 turns "
        "the schedule off (runs only on the admin command).",
    )
    closed_ticket_days: int = Field(
        default=30,
        ge=0,
        description="Photos of a finished (resolved/closed/rated) ticket go "
        "this many days after it finished.",
    )
    max_age_days: int = Field(
        default=180,
        ge=1,
        description="Photos of any emailed ticket go this many days after it "
        "was submitted, finished or not.",
    )
    abandoned_hours: int = Field(
        default=48,
        ge=1,
        description="Photos never linked to a submitted ticket (abandoned "
        "wizards) go this many hours after upload.",
    )
    quarantine_days: int = Field(
        default=30, ge=1, description="Unmatched inbox mail kept in quarantine this many days."
    )
    finished_statuses: frozenset[TicketStatus] = Field(
        default=frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED, TicketStatus.REJECTED}),
        description='Statuses that count as finished, as JSON: ["resolved","closed","rejected"]. '
        "A rating always counts as finished.",
    )
    orphan_chunk_grace_minutes: int = Field(
        default=60,
        ge=1,
        description="GridFS chunks without a file are left alone this long "
        "after their last write, so an upload in progress is not cut short.",
    )
    batch_size: int = Field(default=200, ge=1, le=5000, description="Documents per delete.")
    lease_seconds: int = Field(
        default=600,
        ge=10,
        description="How long a run's lease lasts without renewal; a run "
        "renews it after every batch, so this only bounds how long a crashed run blocks others.",
    )
    runs_keep_days: int = Field(
        default=90, ge=1, description="Run records (janitor_runs) expire after this many days."
    )
    attachments_bucket: str = Field(
        default=PHOTO_BUCKET, pattern=_COLLECTION_NAME, description="GridFS bucket of photos."
    )
    quarantine_collection: str = Field(
        default="inbox_quarantine",
        pattern=_COLLECTION_NAME,
        description="The inbox's collection of unmatched mail.",
    )
    quarantine_time_field: str = Field(
        default="quarantined_at",
        pattern=_FIELD_NAME,
        description="Datetime field of a quarantined mail that its age is measured from.",
    )

    def retention(self) -> RetentionPolicy:
        return RetentionPolicy(
            closed_after=timedelta(days=self.closed_ticket_days),
            max_age=timedelta(days=self.max_age_days),
            abandoned_after=timedelta(hours=self.abandoned_hours),
            quarantine_after=timedelta(days=self.quarantine_days),
            orphan_grace=timedelta(minutes=self.orphan_chunk_grace_minutes),
            finished_statuses=self.finished_statuses,
        )
