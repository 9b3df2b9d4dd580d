"""The file store shared by the gateway and the inbox (write), the mailer (reads) and the
janitor (deletes).

Files are GridFS files in one bucket. A wizard photo's `metadata` is a `PhotoMetadata`; a file
that came with a comment (the employee's, or one in InfraManager's mail) has a
`ConversationFileMetadata`. Not messages: no service publishes them, but several read or write
them, so they are declared once here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

PHOTO_BUCKET = "attachments"
"""GridFS bucket name: files in `attachments.files`, chunks in `attachments.chunks`."""


class PhotoMetadata(BaseModel):
    """`metadata` of a photo's GridFS file. The gateway writes it when the employee sends the
    photo (`ticket_id` None), and sets `ticket_id` when the ticket is sent."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    ticket_id: str | None = Field(
        default=None, description="The ticket it belongs to; None while it is in a draft."
    )
    owner_telegram_id: int = Field(description="Telegram user id of the employee who sent it.")
    sha256: str = Field(description="Hex SHA-256 of the stored (re-encoded) bytes.")
    size: int = Field(ge=0, description="Stored size in bytes.")
    content_type: str = Field(description="MIME type of the stored bytes (image/jpeg).")
    width: int = Field(ge=0)
    height: int = Field(ge=0)
    created_at: AwareDatetime = Field(description="When the gateway stored it (UTC).")
    draft_expires_at: AwareDatetime | None = Field(
        default=None,
        description="While in a draft: when the draft is dropped; the janitor keeps the photo "
        "at least until then, so a draft is whole or gone.",
    )

    def to_document(self) -> dict[str, Any]:
        """As stored in MongoDB (datetimes stay datetimes)."""
        return self.model_dump(mode="python")


class FilePurpose(StrEnum):
    """`metadata.purpose` of a file that came with a comment."""

    COMMENT = "comment"
    """The employee's file with a comment (stored by the gateway)."""
    SUPPORT_COMMENT = "support_comment"
    """A file in InfraManager's notification (stored by the inbox)."""


class ConversationFileMetadata(BaseModel):
    """`metadata` of a file that came with a comment, in either direction. It belongs to its
    ticket from the start."""

    model_config = ConfigDict(frozen=True, extra="ignore", use_enum_values=True)

    ticket_id: str = Field(description="The ticket whose conversation it is part of.")
    purpose: FilePurpose
    owner_telegram_id: int | None = Field(
        default=None, description="Telegram user id of the employee who sent it (theirs only)."
    )
    sha256: str = Field(description="Hex SHA-256 of the stored bytes.")
    size: int = Field(ge=0, description="Stored size in bytes.")
    content_type: str = Field(description="MIME type of the stored bytes.")
    created_at: AwareDatetime = Field(description="When it was stored (UTC).")

    def to_document(self) -> dict[str, Any]:
        """As stored in MongoDB (datetimes stay datetimes; the purpose as its string)."""
        return self.model_dump(mode="python", exclude_none=True)
