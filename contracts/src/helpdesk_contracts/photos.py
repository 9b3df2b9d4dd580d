"""The photo store shared by the gateway (writes), the mailer (reads) and the janitor (deletes).

Photos are GridFS files in one bucket; each file's `metadata` is a `PhotoMetadata`. Not a
message: no service publishes it, but three read or write it, so it is declared once here.
"""

from __future__ import annotations

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

    def to_document(self) -> dict[str, Any]:
        """As stored in MongoDB (datetimes stay datetimes)."""
        return self.model_dump(mode="python")
