"""The conversation part of a `tickets` document: InfraManager's thread (the Message-IDs and
subject its notifications used, so a reply lands in the ticket) and the employee's replies.

A reply and its SendTicketReply are written in one update (the ticket's outbox), so a comment
the employee was told is on its way can never be lost between the database and the broker.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from bson import ObjectId
from helpdesk_contracts.ticket.v1 import ReplyKind, SendTicketReply
from helpdesk_gateway.domain.tickets import MAX_THREAD_IDS
from helpdesk_runtime.outbox import OUTBOX_FIELD, outbox_entry
from pymongo.asynchronous.collection import AsyncCollection

Document = dict[str, Any]


def _oid(ticket_id: str) -> ObjectId | None:
    return ObjectId(ticket_id) if ObjectId.is_valid(ticket_id) else None


class ConversationStore:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def remember_thread(
        self, ticket_id: str, message_id: str | None, subject: str | None, number: str | None
    ) -> None:
        """Keep InfraManager's latest notification as the one the employee's reply answers."""
        oid = _oid(ticket_id)
        if oid is None or not message_id:
            return
        update: Document = {
            "$push": {"thread.message_ids": {"$each": [message_id], "$slice": -MAX_THREAD_IDS}},
            # A status change read from an older snapshot sets the whole thread: it must see
            # this one (its version check fails and it reads the ticket again).
            "$inc": {"version": 1},
        }
        fields: Document = {}
        if subject:
            fields["thread.subject"] = subject
        if number:
            fields["itsm_number"] = number
        if fields:
            update["$set"] = fields
        await self.collection.update_one(
            {"_id": oid, "thread.message_ids": {"$ne": message_id}}, update
        )

    async def queue_reply(self, command: SendTicketReply, now: datetime) -> bool:
        oid = _oid(command.ticket_id)
        if oid is None:
            return False
        reply = {
            "id": str(command.message_id),
            "purpose": command.purpose.value,
            "text": command.text,
            "files": len(command.files),
            "state": "sending",
            "queued_at": now,
        }
        update: Document = {"$push": {"replies": reply, OUTBOX_FIELD: outbox_entry(command)}}
        if command.purpose is ReplyKind.CANCEL:
            update["$set"] = {"cancel_requested_at": now}
        result = await self.collection.update_one(
            {"_id": oid, "replies.id": {"$ne": reply["id"]}}, update
        )
        return result.modified_count == 1

    async def ticket_id_by_reference(self, reference: str, user_id: int) -> str | None:
        doc = await self.collection.find_one(
            {"reference": reference, "user_id": user_id}, {"_id": 1}
        )
        return str(doc["_id"]) if doc else None

    async def reply_settled(self, ticket_id: str, command_id: UUID | None, state: str) -> None:
        oid = _oid(ticket_id)
        if oid is None or command_id is None:
            return
        await self.collection.update_one(
            {"_id": oid, "replies.id": str(command_id)},
            {"$set": {"replies.$.state": state}},
        )

    async def waiting_since_before(self, cutoff: datetime, limit: int = 100) -> list[Document]:
        """Tickets waiting for the requester since before `cutoff`, not reminded this time."""
        cursor = self.collection.find(
            {"status": "waiting", "status_changed_at": {"$lte": cutoff}},
            {"_id": 1, "status_changed_at": 1, "waiting_reminded_for": 1},
        ).limit(limit)
        return [
            doc
            async for doc in cursor
            if doc.get("waiting_reminded_for") != doc.get("status_changed_at")
        ]

    async def mark_waiting_reminded(self, ticket_id: ObjectId, since: datetime) -> bool:
        """Once per waiting period (the period is known by when it began)."""
        result = await self.collection.update_one(
            {"_id": ticket_id, "status": "waiting", "status_changed_at": since},
            {"$set": {"waiting_reminded_for": since}},
        )
        return result.modified_count == 1
