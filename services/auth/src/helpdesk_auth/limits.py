"""Limits on sign-in, as pure decisions over times and counts: code requests and lockouts.

Code requests (OWASP ASVS 5.0 V6.3.1, V6.6.3):
- per Telegram account: a resend cooldown and an hourly cap over all addresses;
- per account *and* address: an hourly and a daily cap, so one account (an attacker's) spends
  only its own budget for an address and never the employee's;
- per address over all accounts: a higher daily cap, which bounds the code emails an employee
  can be sent and the guesses all accounts together get at that address's codes.
Wrong codes (V6.3.1, V6.1.1): consecutive wrong codes lock out progressively, per account and
per address, with exponential backoff; a success resets both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from helpdesk_contracts.auth.v1 import RejectReason

WINDOW = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class LimitPolicy:
    cooldown_seconds: int
    per_user_per_hour: int
    per_email_per_hour: int
    """Codes one account may have for one address in an hour."""
    per_account_email_per_day: int = 10
    per_email_per_day: int = 30
    """Codes an address may be sent in a day, whoever asks; above one account's daily share."""

    @property
    def cooldown(self) -> timedelta:
        return timedelta(seconds=self.cooldown_seconds)


@dataclass(frozen=True, slots=True)
class Limited:
    reason: RejectReason
    retry_after_seconds: int
    rule: str = ""
    """Which limit refused: the label of the throttled-requests counter."""


def check_request_limits(
    now: datetime,
    *,
    user_issued: Sequence[datetime],
    pair_issued: Sequence[datetime],
    email_issued: Sequence[datetime],
    policy: LimitPolicy,
) -> Limited | None:
    """None when a new code may be issued; otherwise why not and for how long.

    `user_issued`: when codes went to this Telegram account (any address) within the last hour;
    `pair_issued`: to this account for this address within the last day;
    `email_issued`: to this address for any account within the last day (any order).
    """
    if user_issued:
        wait = max(user_issued) + timedelta(seconds=policy.cooldown_seconds) - now
        if wait > timedelta(0):
            return Limited(RejectReason.COOLDOWN, _ceil_seconds(wait), "cooldown")
    waits = [
        (_window_wait(now, times, limit, window), rule)
        for times, limit, window, rule in (
            (user_issued, policy.per_user_per_hour, WINDOW, "account_hour"),
            (pair_issued, policy.per_email_per_hour, WINDOW, "account_address_hour"),
            (pair_issued, policy.per_account_email_per_day, DAY, "account_address_day"),
            (email_issued, policy.per_email_per_day, DAY, "address_day"),
        )
    ]
    hit = [(wait, rule) for wait, rule in waits if wait is not None]
    if hit:
        longest, rule = max(hit, key=lambda pair: pair[0])
        return Limited(RejectReason.TOO_MANY_REQUESTS, _ceil_seconds(longest), rule)
    return None


def _window_wait(
    now: datetime, times: Sequence[datetime], limit: int, window: timedelta = WINDOW
) -> timedelta | None:
    """How long until fewer than `limit` of `times` fall within the window, if they do not now."""
    recent = sorted(t for t in times if t > now - window)
    if len(recent) < limit:
        return None
    # Once the (len - limit + 1) oldest have left the window, one more code fits.
    return recent[len(recent) - limit] + window - now


def _ceil_seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


# -- lockout after wrong codes ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    account_threshold: int = 5
    """Consecutive wrong codes of one Telegram account before it is locked out."""
    email_threshold: int = 10
    """Consecutive wrong codes at one address (from any accounts) before it is locked out."""
    base_seconds: int = 60
    max_seconds: int = 3600

    def lock_for(self, failures: int, *, threshold: int) -> timedelta | None:
        """How long `failures` consecutive wrong codes lock out: None below the threshold, then
        the base doubling with each further failure, up to the maximum."""
        if failures < threshold:
            return None
        doublings = min(failures - threshold, 32)  # 2**32 * base is past any maximum
        return timedelta(seconds=min(self.base_seconds * 2**doublings, self.max_seconds))


def locked_wait(now: datetime, locked_until: datetime | None) -> int | None:
    """Whole seconds until a lockout ends; None when there is none (any more)."""
    if locked_until is None or locked_until <= now:
        return None
    return _ceil_seconds(locked_until - now)
