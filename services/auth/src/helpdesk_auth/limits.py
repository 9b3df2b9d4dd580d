"""Rate limits of code requests, as a pure decision over the times codes were issued."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from helpdesk_contracts.auth.v1 import RejectReason

WINDOW = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class LimitPolicy:
    cooldown_seconds: int
    per_user_per_hour: int
    per_email_per_hour: int

    @property
    def cooldown(self) -> timedelta:
        return timedelta(seconds=self.cooldown_seconds)


@dataclass(frozen=True, slots=True)
class Limited:
    reason: RejectReason
    retry_after_seconds: int


def check_request_limits(
    now: datetime,
    *,
    user_issued: Sequence[datetime],
    email_issued: Sequence[datetime],
    policy: LimitPolicy,
) -> Limited | None:
    """None when a new code may be issued; otherwise why not and for how long.

    `user_issued` / `email_issued`: when codes went to this Telegram user / this address within
    the last hour (any order).
    """
    if user_issued:
        wait = max(user_issued) + timedelta(seconds=policy.cooldown_seconds) - now
        if wait > timedelta(0):
            return Limited(RejectReason.COOLDOWN, _ceil_seconds(wait))
    waits = [
        _window_wait(now, times, limit)
        for times, limit in (
            (user_issued, policy.per_user_per_hour),
            (email_issued, policy.per_email_per_hour),
        )
    ]
    longest = max((w for w in waits if w is not None), default=None)
    if longest is not None:
        return Limited(RejectReason.TOO_MANY_REQUESTS, _ceil_seconds(longest))
    return None


def _window_wait(now: datetime, times: Sequence[datetime], limit: int) -> timedelta | None:
    """How long until fewer than `limit` of `times` fall within the window, if they do not now."""
    recent = sorted(t for t in times if t > now - WINDOW)
    if len(recent) < limit:
        return None
    # Once the (len - limit + 1) oldest have left the window, one more code fits.
    return recent[len(recent) - limit] + WINDOW - now


def _ceil_seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))
