"""Auth's MongoDB collections. Every state change and the answer it causes are one update of
one document (the answer goes into that document's `outbox`), and every update is guarded so a
redelivered message changes nothing twice.

- `auth_users`: `_id` = Telegram user id; the binding to one employee, its status and profile.
- `auth_codes`: `_id` = Telegram user id; the one current code (only its HMAC), its attempts.
- `auth_attempts`: `_id` = message_id of a handled command; rate-limit counts and idempotency
  for answers that belong to no code (rejections, admin answers).
- `auth_blocked_emails`: `_id` = address key; addresses an operator revoked (no account may
  sign in with them until unrevoked). Never expires.
- `auth_lockouts`: `_id` = `account:<telegram id>` or `email:<address key>`; consecutive wrong
  codes and the lockout they caused.
Each has a TTL index on `purge_at`, set only on documents that may go.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from helpdesk_contracts.base import Message
from helpdesk_runtime.mongo import by_ids
from helpdesk_runtime.outbox import OUTBOX_FIELD, outbox_entry
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from helpdesk_auth.errors import StoreConflictError

Document = dict[str, Any]

USERS = "auth_users"
CODES = "auth_codes"
ATTEMPTS = "auth_attempts"
LOCKOUTS = "auth_lockouts"
BLOCKED_EMAILS = "auth_blocked_emails"

ATTEMPT_RETENTION = timedelta(hours=25)
"""Longer than the daily limit window; also keeps an undelivered answer well past a relay
outage."""
FAILURE_MEMORY = timedelta(days=1)
"""Wrong codes are counted as consecutive until a success or a day without a wrong code."""
CODE_RETENTION = timedelta(days=1)
"""After a code expired it is kept this long: a late attempt is told "expired", and answers
still in its outbox are relayed before it goes."""
TOMBSTONE_RETENTION = timedelta(days=7)

CLAIM_LEASE = timedelta(minutes=2)
"""How long a delivery that is sending a code keeps it to itself; a crashed delivery's
redelivery may take over after that (a concurrent duplicate must wait and is retried)."""

ATTEMPT_IDS_KEPT = 50
"""message_ids of VerifyCode already answered for a code; enough to absorb any redelivery."""

ACTIVE = "active"
REVOKED = "revoked"
DELETED = "deleted"


class AuthStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.users: AsyncCollection[Document] = db[USERS]
        self.codes: AsyncCollection[Document] = db[CODES]
        self.attempts: AsyncCollection[Document] = db[ATTEMPTS]
        self.lockouts: AsyncCollection[Document] = db[LOCKOUTS]
        self.blocked_emails: AsyncCollection[Document] = db[BLOCKED_EMAILS]

    @property
    def outbox_collections(self) -> list[AsyncCollection[Document]]:
        return [self.codes, self.attempts, self.users]

    async def create_indexes(self) -> None:
        for collection in self.outbox_collections:
            await collection.create_index("purge_at", expireAfterSeconds=0)
        await self.attempts.create_index([("telegram_user_id", ASCENDING), ("at", ASCENDING)])
        await self.attempts.create_index([("email_key", ASCENDING), ("at", ASCENDING)])
        await self.codes.create_index("mail_message_id", sparse=True)
        await self.users.create_index("email_key")
        await self.users.create_index([("status", ASCENDING), ("checked_at", ASCENDING)])
        await self.lockouts.create_index("purge_at", expireAfterSeconds=0)

    # -- handled commands and rate limits ----------------------------------------------------

    async def attempt(self, message_id: str) -> Document | None:
        return await self.attempts.find_one({"_id": message_id}, {OUTBOX_FIELD: 0})

    async def record_attempt(
        self,
        message_id: str,
        *,
        kind: str,
        at: datetime,
        telegram_user_id: int | None = None,
        email_key: str | None = None,
        issued: bool = False,
        answer: Message | None = None,
    ) -> bool:
        """Remember a handled command (and queue its answer); False if it was already."""
        doc: Document = {
            "_id": message_id,
            "kind": kind,
            "at": at,
            "telegram_user_id": telegram_user_id,
            "email_key": email_key,
            "issued": issued,
            "purge_at": at + ATTEMPT_RETENTION,
            OUTBOX_FIELD: [outbox_entry(answer)] if answer is not None else [],
        }
        try:
            await self.attempts.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def issued_since(
        self, *, telegram_user_id: int, email_key: str, since: datetime
    ) -> tuple[list[datetime], list[datetime], list[datetime]]:
        """When codes were issued since `since`: to this Telegram account (any address), to
        this account for this address, and to this address (any account)."""
        issued = {"kind": "request", "issued": True, "at": {"$gt": since}}
        result: list[list[datetime]] = []
        for query in (
            {"telegram_user_id": telegram_user_id},
            {"telegram_user_id": telegram_user_id, "email_key": email_key},
            {"email_key": email_key},
        ):
            cursor = self.attempts.find({**query, **issued}, {"at": 1})
            result.append([doc["at"] async for doc in cursor])
        return result[0], result[1], result[2]

    # -- lockouts after wrong codes --------------------------------------------------------

    async def lockouts_of(self, keys: Sequence[str]) -> dict[str, Document]:
        cursor = self.lockouts.find(by_ids(keys))
        return {doc["_id"]: doc async for doc in cursor}

    async def count_failure(
        self, key: str, *, at: datetime, lock_for: Callable[[int], timedelta | None]
    ) -> Document:
        """One more consecutive wrong code for `key`; locks it for `lock_for(failures)`."""
        doc = await self.lockouts.find_one_and_update(
            {"_id": key},
            {
                "$inc": {"failures": 1},
                "$set": {"last_failure_at": at, "purge_at": at + FAILURE_MEMORY},
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:  # an upsert always returns the document
            raise StoreConflictError("the lockout document vanished")
        lock = lock_for(doc["failures"])
        changes: Document = {"purge_at": at + FAILURE_MEMORY + (lock or timedelta())}
        if lock is not None:
            changes["locked_until"] = at + lock
        await self.lockouts.update_one({"_id": key, "failures": doc["failures"]}, {"$set": changes})
        return {**doc, **changes}

    async def clear_failures(self, keys: Sequence[str]) -> None:
        await self.lockouts.delete_many(by_ids(keys))

    # -- codes ---------------------------------------------------------------------------------

    async def code(self, telegram_user_id: int) -> Document | None:
        return await self.codes.find_one({"_id": telegram_user_id}, {OUTBOX_FIELD: 0})

    async def code_for_mail(self, mail_message_id: str) -> Document | None:
        return await self.codes.find_one({"mail_message_id": mail_message_id}, {OUTBOX_FIELD: 0})

    async def put_code(
        self,
        telegram_user_id: int,
        request_id: str,
        fields: Document,
        *,
        now: datetime,
        cooldown: timedelta,
        answers: Sequence[Message] = (),
    ) -> Document | None:
        """Make this request's code the user's current one; None when it was stored.

        The swap is one guarded update, so two deliveries racing each other cannot both send
        a code: the current code may be replaced only by another request once the resend
        cooldown has passed, or by this same request when an earlier delivery stopped before
        its email went out and its claim is older than `CLAIM_LEASE`. Otherwise the code
        that stood in the way is returned. Pending answers of a replaced code stay queued.
        """
        update: Document = {"$set": {**fields, "request_id": request_id, "claimed_at": now}}
        if answers:
            update["$push"] = {OUTBOX_FIELD: {"$each": [outbox_entry(a) for a in answers]}}
        guard = {
            "_id": telegram_user_id,
            "$or": [
                {"request_id": {"$ne": request_id}, "created_at": {"$lte": now - cooldown}},
                {
                    "request_id": request_id,
                    "mail_state": "pending",
                    "claimed_at": {"$lte": now - CLAIM_LEASE},
                },
            ],
        }
        try:
            await self.codes.update_one(guard, update, upsert=True)
        except DuplicateKeyError:
            return await self.code(telegram_user_id) or {}
        return None

    async def release_claim(self, telegram_user_id: int, request_id: str) -> None:
        await self.codes.update_one(
            {"_id": telegram_user_id, "request_id": request_id, "mail_state": "pending"},
            {"$set": {"claimed_at": datetime(1970, 1, 1, tzinfo=UTC)}},
        )

    async def mail_published(self, telegram_user_id: int, request_id: str, answer: Message) -> None:
        await self.codes.update_one(
            {"_id": telegram_user_id, "request_id": request_id, "mail_state": "pending"},
            {"$set": {"mail_state": "published"}, "$push": {OUTBOX_FIELD: outbox_entry(answer)}},
        )

    async def answer_attempt(
        self,
        code: Document,
        *,
        attempt_id: str,
        changes: Document,
        answer: Message | None,
    ) -> bool:
        """Apply one VerifyCode's effect on the code, if the code is still as it was read.

        False when the code changed meanwhile (read it again) or this attempt was answered.
        """
        guard = {
            "_id": code["_id"],
            "request_id": code["request_id"],
            "status": code["status"],
            "attempts": code["attempts"],
            "attempt_ids": {"$ne": attempt_id},
        }
        update: Document = {
            "$push": {"attempt_ids": {"$each": [attempt_id], "$slice": -ATTEMPT_IDS_KEPT}}
        }
        if changes:
            update["$set"] = changes
        if answer is not None:
            update["$push"][OUTBOX_FIELD] = outbox_entry(answer)
        result = await self.codes.update_one(guard, update)
        return result.modified_count == 1

    async def mail_failed(self, code: Document, answer: Message) -> bool:
        result = await self.codes.update_one(
            {"_id": code["_id"], "mail_message_id": code["mail_message_id"], "status": "active"},
            {
                "$set": {"status": "void", "void_reason": "mail_failed", "mail_state": "failed"},
                "$push": {OUTBOX_FIELD: outbox_entry(answer)},
            },
        )
        return result.modified_count == 1

    async def void_code(self, telegram_user_id: int, reason: str) -> None:
        await self.codes.update_one(
            {"_id": telegram_user_id, "status": "active"},
            {"$set": {"status": "void", "void_reason": reason}},
        )

    # -- users ---------------------------------------------------------------------------------

    async def user(self, telegram_user_id: int) -> Document | None:
        return await self.users.find_one(
            {"_id": telegram_user_id, "status": {"$ne": DELETED}}, {OUTBOX_FIELD: 0}
        )

    async def users_with_email(self, email_key: str, *, active_only: bool) -> list[Document]:
        query: Document = {"email_key": email_key}
        query["status"] = ACTIVE if active_only else {"$ne": DELETED}
        cursor = self.users.find(query, {OUTBOX_FIELD: 0}).sort("_id", ASCENDING)
        return [doc async for doc in cursor]

    async def bind(
        self, telegram_user_id: int, *, authorization_id: str, fields: Document, event: Message
    ) -> bool:
        """Bind the account to an employee, once per authorisation; False if already done."""
        try:
            await self.users.update_one(
                {"_id": telegram_user_id, "authorization_id": {"$ne": authorization_id}},
                {
                    "$set": {**fields, "status": ACTIVE, "authorization_id": authorization_id},
                    "$unset": {"purge_at": "", "revoked_at": "", "revoke_reason": ""},
                    "$push": {OUTBOX_FIELD: outbox_entry(event)},
                },
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True

    async def revoke(
        self,
        telegram_user_id: int,
        *,
        reason: str,
        at: datetime,
        event: Message,
        block: bool = False,
    ) -> bool:
        """End an active binding and queue UserRevoked; False if it was not active."""
        changes: Document = {
            "status": REVOKED,
            "revoke_reason": reason,
            "revoked_at": at,
            "checked_at": at,
        }
        if block:
            changes["blocked"] = True
        result = await self.users.update_one(
            {"_id": telegram_user_id, "status": ACTIVE},
            {"$set": changes, "$push": {OUTBOX_FIELD: outbox_entry(event)}},
        )
        return result.modified_count == 1

    async def block_email(self, email_key: str, *, at: datetime, by: str) -> None:
        await self.blocked_emails.update_one(
            {"_id": email_key},
            {"$setOnInsert": {"blocked_at": at, "blocked_by": by}},
            upsert=True,
        )

    async def unblock_email(self, email_key: str) -> bool:
        result = await self.blocked_emails.delete_one({"_id": email_key})
        return result.deleted_count == 1

    async def email_blocked(self, email_key: str) -> bool:
        return await self.blocked_emails.find_one({"_id": email_key}) is not None

    async def void_codes_for_email(self, email_key: str, reason: str) -> None:
        await self.codes.update_many(
            {"email_key": email_key, "status": "active"},
            {"$set": {"status": "void", "void_reason": reason}},
        )

    async def unblock(self, telegram_user_id: int) -> bool:
        result = await self.users.update_one(
            {"_id": telegram_user_id, "blocked": True}, {"$unset": {"blocked": ""}}
        )
        return result.modified_count == 1

    async def block(self, telegram_user_id: int) -> None:
        await self.users.update_one(
            {"_id": telegram_user_id, "status": {"$ne": DELETED}}, {"$set": {"blocked": True}}
        )

    async def forget(self, telegram_user_id: int, *, at: datetime, event: Message) -> bool:
        """Drop the binding and profile, keeping a short-lived tombstone that relays the event."""
        result = await self.users.find_one_and_update(
            {"_id": telegram_user_id, "status": {"$ne": DELETED}},
            {
                "$set": {"status": DELETED, "deleted_at": at, "purge_at": at + TOMBSTONE_RETENTION},
                "$unset": {
                    "email": "",
                    "email_key": "",
                    "profile": "",
                    "chat_id": "",
                    "blocked": "",
                    "authorization_id": "",
                    "authorized_at": "",
                    "checked_at": "",
                    "revoked_at": "",
                    "revoke_reason": "",
                },
                "$push": {OUTBOX_FIELD: outbox_entry(event)},
            },
            return_document=ReturnDocument.AFTER,
        )
        if result is None:
            return False
        await self.codes.delete_one({"_id": telegram_user_id})
        return True

    async def due_for_recheck(self, checked_before: datetime, *, limit: int) -> list[Document]:
        cursor = (
            self.users.find(
                {"status": ACTIVE, "checked_at": {"$lte": checked_before}}, {OUTBOX_FIELD: 0}
            )
            .sort("checked_at", ASCENDING)
            .limit(limit)
        )
        return [doc async for doc in cursor]

    async def refresh_profile(
        self, telegram_user_id: int, *, profile: Document, at: datetime
    ) -> None:
        await self.users.update_one(
            {"_id": telegram_user_id, "status": ACTIVE},
            {"$set": {"profile": profile, "checked_at": at}},
        )
