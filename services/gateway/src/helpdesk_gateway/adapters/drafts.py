"""Drafts nobody came back to, in aiogram's FSM storage (`gateway_fsm`, documents
`{_id, state, data}` where `data` is `FlowData`).

A draft older than GATEWAY_DRAFT_MAX_AGE_SECONDS is dropped with a message at its owner's next
action (bot.middlewares.DraftExpiry). One whose owner never returns would keep its description
and location for ever; this forgets it, and its photos, a grace period later.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from helpdesk_gateway.adapters.attachments import AttachmentStore
from pymongo.asynchronous.collection import AsyncCollection

Document = dict[str, Any]
WIZARD_STATE_PREFIX = "NewTicket:"


def _json_time(moment: datetime) -> str:
    """The form pydantic's JSON mode stores `started_at` in: ISO 8601 with `Z`."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class AbandonedDrafts:
    def __init__(self, collection: AsyncCollection[Document], attachments: AttachmentStore):
        self.collection = collection
        self.attachments = attachments

    async def forget(self, started_before: datetime, *, limit: int = 500) -> int:
        """Forget drafts started before `started_before`; returns how many."""
        # ISO strings of one format order like the times (sub-second differences aside).
        query = {"data.draft.started_at": {"$lt": _json_time(started_before)}}
        forgotten = 0
        cursor = self.collection.find(query, {"state": 1, "data.draft": 1}).limit(limit)
        async for doc in cursor:
            draft = doc["data"]["draft"]
            update: Document = {"$unset": {"data.draft": ""}}
            if str(doc.get("state") or "").startswith(WIZARD_STATE_PREFIX):
                update["$unset"]["state"] = ""
            # Guarded by the draft id: a new draft started meanwhile is not touched.
            result = await self.collection.update_one(
                {"_id": doc["_id"], "data.draft.draft_id": draft.get("draft_id")}, update
            )
            if result.modified_count:
                photos = draft.get("photos") or []
                await self.attachments.discard([p["file_id"] for p in photos if "file_id" in p])
                forgotten += 1
        return forgotten
