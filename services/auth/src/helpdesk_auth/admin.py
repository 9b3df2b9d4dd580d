"""Operators' user commands: delete, revoke, look up. Each is answered by exactly one
AdminCommandCompleted and written to the log for audit.

Revoke blocks the Telegram account: it loses access at once and cannot request a code again
until an operator unrevokes it or deletes the record (after which it signs in like a new user).
Revoke by email also blocks the address itself, so the same person cannot sign in again from a
new Telegram account; UnrevokeUser by email lifts both. Delete forgets the binding and profile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from helpdesk_contracts.admin.v1 import (
    AdminCommandCompleted,
    DeleteUser,
    LookupUser,
    Outcome,
    RevokeUser,
    UnrevokeUser,
)
from helpdesk_contracts.auth.v1 import RevokeReason, UserRevoked
from pydantic import JsonValue

from helpdesk_auth.adapters.store import ACTIVE, AuthStore, Document
from helpdesk_auth.emails import email_key

logger = logging.getLogger("helpdesk.auth.admin")

SERVICE = "auth"

UserCommand = DeleteUser | RevokeUser | UnrevokeUser | LookupUser


@dataclass
class UserAdmin:
    store: AuthStore
    clock: Callable[[], datetime]
    notify: Callable[[], None]

    async def handle(self, command: UserCommand) -> None:
        command_id = str(command.message_id)
        if await self.store.attempt(command_id) is not None:
            self.notify()
            return
        targets = await self._targets(command)
        result: dict[str, JsonValue]
        # By email, the address itself is acted on, even with no account bound to it yet.
        if isinstance(command, RevokeUser) and command.email is not None:
            outcome, detail, result = await self._revoke(command, targets)
        elif isinstance(command, UnrevokeUser) and command.email is not None:
            outcome, detail, result = await self._unrevoke(command, targets)
        elif isinstance(command, LookupUser) and command.email is not None:
            blocked = await self.store.email_blocked(email_key(command.email))
            result = {**_lookup(targets), "address_blocked": blocked}
            found = bool(targets) or blocked
            outcome = Outcome.DONE if found else Outcome.NOT_FOUND
            detail = f"{len(targets)} user(s)" + (", address blocked" if blocked else "")
        elif not targets:
            outcome, detail, result = Outcome.NOT_FOUND, "no such user", {}
        elif isinstance(command, UnrevokeUser):
            outcome, detail, result = await self._unrevoke(command, targets)
        elif isinstance(command, RevokeUser):
            outcome, detail, result = await self._revoke(command, targets)
        elif isinstance(command, DeleteUser):
            outcome, detail, result = await self._delete(command, targets)
        else:
            outcome, detail, result = Outcome.DONE, f"{len(targets)} user(s)", _lookup(targets)
        logger.info(
            "admin command",
            extra={
                "audit": True,
                "command": command.routing_key,
                "requested_by": command.requested_by,
                "target_telegram_user_id": command.telegram_user_id,
                "target_email": command.email,
                "outcome": outcome.value,
                "detail": detail,
            },
        )
        await self.store.record_attempt(
            command_id,
            kind="admin",
            at=self.clock(),
            answer=AdminCommandCompleted(
                correlation_id=command.message_id,
                command=command.routing_key,
                service=SERVICE,
                outcome=outcome,
                detail=detail,
                result=result,
            ),
        )
        self.notify()

    async def _targets(self, command: UserCommand) -> list[Document]:
        if command.telegram_user_id is not None:
            user = await self.store.user(command.telegram_user_id)
            return [user] if user is not None else []
        if command.email is None:  # the contract demands exactly one selector
            return []
        return await self.store.users_with_email(email_key(command.email), active_only=False)

    async def _revoke(
        self, command: RevokeUser, targets: list[Document]
    ) -> tuple[Outcome, str, dict[str, JsonValue]]:
        now = self.clock()
        revoked: list[JsonValue] = []
        for user in targets:
            uid: int = user["_id"]
            if user["status"] == ACTIVE:
                event = UserRevoked(
                    correlation_id=command.message_id,
                    telegram_user_id=uid,
                    email=user.get("email"),
                    reason=RevokeReason.ADMIN_REVOKED,
                )
                if await self.store.revoke(
                    uid, reason=RevokeReason.ADMIN_REVOKED.value, at=now, event=event, block=True
                ):
                    revoked.append(uid)
            await self.store.block(uid)
            await self.store.void_code(uid, "admin")
        blocked: list[JsonValue] = [user["_id"] for user in targets]
        detail = f"{len(revoked)} account(s) revoked, {len(blocked)} blocked"
        result: dict[str, JsonValue] = {"revoked": revoked, "blocked": blocked}
        if command.email is not None:
            key = email_key(command.email)
            await self.store.block_email(key, at=now, by=command.requested_by)
            await self.store.void_codes_for_email(key, "admin")
            detail += ", address blocked"
            result["address_blocked"] = True
        return Outcome.DONE, detail, result

    async def _unrevoke(
        self, command: UnrevokeUser, targets: list[Document]
    ) -> tuple[Outcome, str, dict[str, JsonValue]]:
        unblocked: list[JsonValue] = [
            user["_id"] for user in targets if await self.store.unblock(user["_id"])
        ]
        address = command.email is not None and await self.store.unblock_email(
            email_key(command.email)
        )
        if not unblocked and not address:
            return Outcome.NOT_FOUND, "nothing was revoked", {"unblocked": []}
        detail = f"{len(unblocked)} account(s) unblocked" + (
            ", address unblocked" if address else ""
        )
        return Outcome.DONE, detail, {"unblocked": unblocked, "address_unblocked": address}

    async def _delete(
        self, command: DeleteUser, targets: list[Document]
    ) -> tuple[Outcome, str, dict[str, JsonValue]]:
        now = self.clock()
        deleted: list[JsonValue] = []
        for user in targets:
            uid: int = user["_id"]
            event = UserRevoked(
                correlation_id=command.message_id,
                telegram_user_id=uid,
                email=user.get("email"),
                reason=RevokeReason.ADMIN_DELETED,
            )
            if await self.store.forget(uid, at=now, event=event):
                deleted.append(uid)
        return Outcome.DONE, f"{len(deleted)} account(s) deleted", {"deleted": deleted}


def _lookup(targets: list[Document]) -> dict[str, JsonValue]:
    """What auth knows about each user, as plain JSON for the operator."""
    users: list[JsonValue] = []
    for user in targets:
        users.append(
            {
                "telegram_user_id": user["_id"],
                "email": user.get("email"),
                "status": user.get("status"),
                "blocked": bool(user.get("blocked")),
                "revoke_reason": user.get("revoke_reason"),
                "profile": user.get("profile"),
                "authorized_at": _iso(user.get("authorized_at")),
                "checked_at": _iso(user.get("checked_at")),
                "revoked_at": _iso(user.get("revoked_at")),
            }
        )
    return {"users": users}


def _iso(value: object) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None
