"""Engineers' comments in `itsm_links`: the comment and its TicketCommentAdded in one update.

Guarded twice: by the mail (`comment_sources`: a mail re-read after a crash adds nothing) and by
the text (`comment_keys`: the same comment sent again in a later mail is not forwarded again).
"""

from __future__ import annotations

from datetime import datetime

from helpdesk_contracts.runtime.mongo import Document
from helpdesk_contracts.ticket.v1 import TicketCommentAdded
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from helpdesk_inbox.adapters.links import COLLECTION, entry_for


class CommentStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection: AsyncCollection[Document] = db[COLLECTION]

    async def record(
        self,
        event: TicketCommentAdded,
        *,
        key: str,
        source: str,
        link_number: str | None,
        now: datetime,
    ) -> bool:
        """Queue the comment's event; False when this mail or this comment was seen before."""
        add: Document = {"comment_sources": source, "comment_keys": key}
        if link_number:
            add["itsm_numbers"] = link_number
        result = await self.collection.update_one(
            {
                "_id": event.ticket_id,
                "comment_sources": {"$ne": source},
                "comment_keys": {"$ne": key},
            },
            {
                "$addToSet": add,
                "$set": {"updated_at": now},
                "$push": {"outbox": entry_for(event, source)},
            },
        )
        return result.modified_count == 1

    async def remember(self, ticket_id: str, key: str, now: datetime) -> None:
        """A comment the employee heard with a status change: not to be forwarded again."""
        await self.collection.update_one(
            {"_id": ticket_id},
            {"$addToSet": {"comment_keys": key}, "$set": {"updated_at": now}},
        )
