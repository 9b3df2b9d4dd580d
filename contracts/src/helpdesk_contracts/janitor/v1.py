"""Janitor, version 1: what a retention run removed."""

from __future__ import annotations

from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from helpdesk_contracts.base import Event, TicketReference


class PurgeCount(BaseModel):
    """Items and bytes one retention rule removed (or would remove, in a dry run)."""

    model_config = ConfigDict(frozen=True)

    items: int = Field(ge=0, examples=[12])
    bytes: int = Field(ge=0, examples=[5_242_880])


class AttachmentsPurged(Event):
    """Photos of these tickets were deleted; systems that link to them should stop."""

    routing_key: ClassVar[str] = "janitor.attachments_purged.v1"

    run_id: UUID = Field(examples=["0b8e4c1e-8a55-4b5a-b3f7-92d2b1e0a6d4"])
    references: list[TicketReference] = Field(max_length=1000, examples=[["TG-7F3A2C"]])
    files: int = Field(ge=0, examples=[3])
    bytes: int = Field(ge=0, examples=[1_500_000])


class JanitorRunCompleted(Event):
    """A retention run finished (correlation_id is the RunJanitor command, if any)."""

    routing_key: ClassVar[str] = "janitor.run_completed.v1"

    run_id: UUID = Field(examples=["0b8e4c1e-8a55-4b5a-b3f7-92d2b1e0a6d4"])
    dry_run: bool = Field(examples=[False])
    started_at: AwareDatetime = Field(examples=["2026-11-26T03:00:00Z"])
    finished_at: AwareDatetime = Field(examples=["2026-11-26T03:00:04Z"])
    purged: dict[Annotated[str, StringConstraints(max_length=64)], PurgeCount] = Field(
        description="Per rule: closed_tickets, max_age, abandoned, orphan_chunks, quarantine.",
        examples=[{"closed_tickets": {"items": 12, "bytes": 5242880}}],
    )
