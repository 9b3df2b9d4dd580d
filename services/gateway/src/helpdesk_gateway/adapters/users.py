"""`gateway_users`: the gateway's read model of who may use the bot, fed by auth's events.

One document per Telegram user (`_id` = user id). `status` says whether they are signed in;
`reachable` turns false when Telegram answers 403 (the user blocked the bot) and true again when
they write to it. Events are applied by time, so a late UserAuthorized cannot undo a revocation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from helpdesk_contracts.auth.v1 import EmployeeProfile, UserAuthorized, UserRevoked
from helpdesk_contracts.base import Locale
from helpdesk_contracts.ticket.v1 import Requester
from helpdesk_gateway.adapters.batches import Batches, documents_by_id
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

Document = dict[str, Any]
COLLECTION = "gateway_users"


class UserStatus(StrEnum):
    NEW = "new"  # has talked to the bot, not signed in yet
    AUTHORIZED = "authorized"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class GatewayUser:
    telegram_user_id: int
    chat_id: int
    locale: Locale
    status: UserStatus
    reachable: bool
    username: str | None = None
    profile: EmployeeProfile | None = None
    last_location: str | None = None

    @property
    def authorized(self) -> bool:
        return self.status == UserStatus.AUTHORIZED and self.profile is not None

    def requester(self) -> Requester:
        if self.profile is None:
            raise ValueError("user has no profile")
        return Requester(
            telegram_user_id=self.telegram_user_id,
            telegram_username=self.username,
            email=self.profile.email,
            display_name=self.profile.display_name,
            phone=self.profile.phone,
            department=self.profile.department,
            title=self.profile.title,
        )


def _from_doc(doc: Document) -> GatewayUser:
    profile = doc.get("profile")
    return GatewayUser(
        telegram_user_id=int(doc["_id"]),
        chat_id=int(doc.get("chat_id") or doc["_id"]),
        locale=doc.get("locale") or "ru",
        status=UserStatus(doc.get("status", UserStatus.NEW)),
        reachable=bool(doc.get("reachable", True)),
        username=doc.get("username"),
        profile=EmployeeProfile.model_validate(profile) if profile else None,
        last_location=doc.get("last_location"),
    )


class UserRepository:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection
        self._get = Batches[int, GatewayUser | None](self._find)

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("status", ASCENDING), ("reachable", ASCENDING)])
        await self.collection.create_index([("chat_id", ASCENDING)])

    async def get(self, user_id: int) -> GatewayUser | None:
        """The user as stored now (read together with the users asked for meanwhile)."""
        return await self._get(user_id)

    async def _find(self, user_ids: Sequence[int]) -> dict[int, GatewayUser | None]:
        found = await documents_by_id(self.collection, user_ids)
        return {user_id: _from_doc(doc) if doc else None for user_id, doc in found.items()}

    async def seen(
        self, user_id: int, *, chat_id: int, locale: Locale, username: str | None, now: datetime
    ) -> GatewayUser:
        """Record that the user wrote to the bot (chat, language, reachable again)."""
        doc = await self.collection.find_one_and_update(
            {"_id": user_id},
            {
                "$set": {
                    "chat_id": chat_id,
                    "locale": locale,
                    "username": username,
                    "reachable": True,
                    "seen_at": now,
                },
                "$setOnInsert": {"status": UserStatus.NEW.value, "created_at": now},
            },
            upsert=True,
            return_document=True,
        )
        if doc is None:  # an upsert always returns the document; this satisfies the type
            raise RuntimeError(f"user {user_id} vanished during upsert")
        return _from_doc(doc)

    async def authorize(self, event: UserAuthorized, now: datetime) -> bool:
        """Apply UserAuthorized unless a later revocation is already recorded."""
        fields = {
            "chat_id": event.chat_id,
            "status": UserStatus.AUTHORIZED.value,
            "profile": event.profile.model_dump(mode="json"),
            "authorized_at": event.authorized_at,
            "reachable": True,
            "updated_at": now,
        }
        result = await self.collection.update_one(
            {"_id": event.telegram_user_id, "revoked_at": {"$not": {"$gt": event.authorized_at}}},
            {"$set": fields},
        )
        if result.matched_count:
            return True
        try:
            await self.collection.insert_one(
                {"_id": event.telegram_user_id, "locale": "ru", "created_at": now, **fields}
            )
        except DuplicateKeyError:
            return False  # exists, and was revoked after this authorisation
        return True

    async def revoke(self, event: UserRevoked, now: datetime) -> GatewayUser | None:
        """Apply UserRevoked unless the user signed in again after it; returns the user then."""
        doc = await self.collection.find_one_and_update(
            {"_id": event.telegram_user_id, "authorized_at": {"$not": {"$gt": event.occurred_at}}},
            {
                "$set": {
                    "status": UserStatus.REVOKED.value,
                    "revoked_at": event.occurred_at,
                    "revoked_reason": event.reason.value,
                    "updated_at": now,
                },
                "$unset": {"profile": ""},
            },
            return_document=True,
        )
        return _from_doc(doc) if doc else None

    async def set_reachable(self, chat_id: int, reachable: bool, now: datetime) -> None:
        """False after Telegram's 403 (the user blocked the bot); true once they are back."""
        await self.collection.update_many(
            {"chat_id": chat_id}, {"$set": {"reachable": reachable, "reachability_at": now}}
        )

    async def set_last_location(self, user_id: int, location: str) -> None:
        await self.collection.update_one({"_id": user_id}, {"$set": {"last_location": location}})

    async def clear_location(self, user_id: int) -> bool:
        result = await self.collection.update_one(
            {"_id": user_id}, {"$unset": {"last_location": ""}}
        )
        return result.matched_count > 0

    async def broadcast_audience(self) -> AsyncIterator[GatewayUser]:
        cursor = self.collection.find(
            {"status": UserStatus.AUTHORIZED.value, "reachable": {"$ne": False}}
        )
        async for doc in cursor:
            yield _from_doc(doc)
