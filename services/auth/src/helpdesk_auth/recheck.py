"""The periodic directory re-check: an employee disabled or removed in the directory loses
access without anyone acting.

Each authorised user is looked up again once `interval` has passed since their last check, so
restarts never postpone checks and a large user base is spread over time. When the directory
cannot be asked, the pass stops and the same users are due next time; nobody is revoked for an
outage shorter than `max_unverified`, but a user whose last successful check is older than that
is revoked (`directory_unreachable`): access never outlives the directory's say by more than
`max_unverified` (a leaver keeps access at most `interval`, or `max_unverified` while the
directory is down). They sign in again once it answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from helpdesk_contracts.auth.v1 import RevokeReason, UserRevoked

from helpdesk_auth.adapters.store import AuthStore
from helpdesk_auth.directory import DirectoryLookup, EntryStatus
from helpdesk_auth.emails import mask_email
from helpdesk_auth.errors import DirectoryUnavailableError

logger = logging.getLogger("helpdesk.auth.recheck")

MAX_POLL_SECONDS = 600.0


class BulkDirectory(Protocol):
    async def lookup_many(self, emails: Sequence[str]) -> list[DirectoryLookup]: ...


@dataclass
class RecheckReport:
    checked: int = 0
    revoked: list[int] = field(default_factory=list)
    directory_unavailable: bool = False


@dataclass
class DirectoryRecheck:
    store: AuthStore
    directory: BulkDirectory
    clock: Callable[[], datetime]
    notify: Callable[[], None]
    interval: timedelta
    batch_size: int = 100
    max_unverified: timedelta = timedelta(days=1)
    """0: keep everyone while the directory is down."""

    async def run_once(self) -> RecheckReport:
        """Check every user whose last check is at least `interval` old."""
        report = RecheckReport()
        now = self.clock()
        seen: set[int] = set()
        while True:
            users = await self.store.due_for_recheck(now - self.interval, limit=self.batch_size)
            users = [u for u in users if u["_id"] not in seen]
            if not users:
                break
            seen.update(u["_id"] for u in users)
            try:
                answers = await self.directory.lookup_many([u["email"] for u in users])
            except DirectoryUnavailableError:
                logger.warning("directory re-check postponed: directory unavailable")
                report.directory_unavailable = True
                await self._revoke_unverified(now, report)
                break
            for user, answer in zip(users, answers, strict=True):
                report.checked += 1
                if answer.status is EntryStatus.ACTIVE and answer.profile is not None:
                    await self.store.refresh_profile(
                        user["_id"], profile=answer.profile.model_dump(mode="json"), at=now
                    )
                    continue
                reason = (
                    RevokeReason.DIRECTORY_DISABLED
                    if answer.status is EntryStatus.DISABLED
                    else RevokeReason.DIRECTORY_REMOVED
                )
                event = UserRevoked(
                    telegram_user_id=user["_id"], email=user["email"], reason=reason
                )
                if await self.store.revoke(user["_id"], reason=reason.value, at=now, event=event):
                    report.revoked.append(user["_id"])
                    logger.info(
                        "user revoked by directory re-check",
                        extra={
                            "telegram_user_id": user["_id"],
                            "email": mask_email(user["email"]),
                            "reason": reason.value,
                        },
                    )
        if report.revoked:
            self.notify()
        if report.checked:
            logger.info(
                "directory re-check done",
                extra={"checked": report.checked, "revoked": len(report.revoked)},
            )
        return report

    async def _revoke_unverified(self, now: datetime, report: RecheckReport) -> None:
        """Fail closed once the directory has been silent about a user for `max_unverified`."""
        if not self.max_unverified:
            return
        seen: set[int] = set()
        while True:
            stale = await self.store.due_for_recheck(
                now - self.max_unverified, limit=self.batch_size
            )
            stale = [u for u in stale if u["_id"] not in seen]
            if not stale:
                return
            seen.update(u["_id"] for u in stale)
            for user in stale:
                reason = RevokeReason.DIRECTORY_UNREACHABLE
                event = UserRevoked(
                    telegram_user_id=user["_id"], email=user["email"], reason=reason
                )
                if await self.store.revoke(user["_id"], reason=reason.value, at=now, event=event):
                    report.revoked.append(user["_id"])
                    logger.warning(
                        "user revoked: not verifiable in the directory for too long",
                        extra={"telegram_user_id": user["_id"], "email": mask_email(user["email"])},
                    )

    async def run_forever(self) -> None:
        """The background job: look for due users every few minutes."""
        pause = min(self.interval.total_seconds(), MAX_POLL_SECONDS)
        while True:
            await self.run_once()
            await asyncio.sleep(pause)
