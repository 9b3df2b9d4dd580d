"""Typed FSM data: what the wizard, sign-in and rating flows keep between a user's messages.

aiogram stores FSM data as a plain dict (here in MongoDB); these models are its schema, so a
handler never reads a misspelt key and a document from an older version still loads.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

DRAFT_ID_BYTES = 4


def new_draft_id() -> str:
    return secrets.token_hex(DRAFT_ID_BYTES)


class Step(StrEnum):
    """Wizard steps the user can go back to from the preview."""

    CATEGORY = "category"
    DESCRIPTION = "description"
    LOCATION = "location"
    PHOTOS = "photos"


class DraftPhoto(BaseModel):
    model_config = ConfigDict(extra="ignore")

    file_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{24}$")]
    size: int
    sha256: str
    width: int
    height: int


class TicketDraft(BaseModel):
    """The ticket being written."""

    model_config = ConfigDict(extra="ignore")

    draft_id: str = Field(default_factory=new_draft_id)
    category: str | None = None
    description: str | None = None
    location: str | None = None
    photos: list[DraftPhoto] = Field(default_factory=list)
    editing: bool = False
    """True when a step was reopened from the preview: finishing it returns to the preview."""
    started_at: datetime | None = None
    """When the wizard began (None in drafts from before this field: they never expire)."""

    def photo_ids(self) -> list[str]:
        return [photo.file_id for photo in self.photos]

    def has_photo(self, sha256: str) -> bool:
        return any(photo.sha256 == sha256 for photo in self.photos)

    def expires_at(self, max_age: timedelta) -> datetime | None:
        return None if self.started_at is None else self.started_at + max_age

    def expired(self, now: datetime, max_age: timedelta) -> bool:
        """Too old to send: its photos may be gone (the janitor keeps them until then only)."""
        expires = self.expires_at(max_age)
        return expires is not None and now >= expires


class SignInData(BaseModel):
    model_config = ConfigDict(extra="ignore")

    masked_email: str | None = None
    code_notification: str | None = None
    """The code message's notification: its «Ввести другой адрес» goes once signed in."""


class RatingData(BaseModel):
    model_config = ConfigDict(extra="ignore")

    ticket_id: str
    prompt_message_id: int | None = None
    """The "add a comment?" message, whose button is taken away once the comment came."""


class FlowData(BaseModel):
    """The whole FSM data document of one user."""

    model_config = ConfigDict(extra="ignore")

    draft: TicketDraft | None = None
    sign_in: SignInData | None = None
    rating: RatingData | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """Why an input cannot be taken: a locale key and the values its text needs."""

    key: str
    values: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DraftLimits:
    description_min: int
    description_max: int
    location_max: int
    max_photos: int


def description_problem(text: str, limits: DraftLimits) -> Problem | None:
    """Why a description cannot be taken; None when it can."""
    length = len(text.strip())
    if length > limits.description_max:
        return Problem(
            "wizard-description-too-long", {"length": length, "max": limits.description_max}
        )
    if length < limits.description_min:
        return Problem("wizard-description-too-short", {"min": limits.description_min})
    return None


def clean_location(text: str, limits: DraftLimits) -> str | Problem:
    """The place with its whitespace tidied, or why it cannot be taken."""
    place = " ".join(text.split())
    if len(place) > limits.location_max:
        return Problem("wizard-location-too-long", {"max": limits.location_max})
    if not place:
        return Problem("wizard-location-text-only")
    return place
