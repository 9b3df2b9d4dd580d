"""Limits of code requests (cooldown, hourly and daily caps, with the wait the user is told) and
the lockout after wrong codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpdesk_auth.limits import (
    Limited,
    LimitPolicy,
    LockoutPolicy,
    check_request_limits,
    locked_wait,
)
from helpdesk_contracts.auth.v1 import RejectReason

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
POLICY = LimitPolicy(
    cooldown_seconds=60,
    per_user_per_hour=3,
    per_email_per_hour=4,
    per_account_email_per_day=6,
    per_email_per_day=8,
)
TOO_MANY = RejectReason.TOO_MANY_REQUESTS


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def check(
    user: list[datetime],
    email: list[datetime] | None = None,
    pair: list[datetime] | None = None,
) -> Limited | None:
    """`pair` defaults to the codes this account had for this address: all of `user`."""
    return check_request_limits(
        NOW,
        user_issued=user,
        pair_issued=user if pair is None else pair,
        email_issued=email or user,
        policy=POLICY,
    )


def reason(limited: Limited | None) -> tuple[RejectReason, int, str] | None:
    return None if limited is None else (limited.reason, limited.retry_after_seconds, limited.rule)


def test_a_first_request_is_allowed() -> None:
    assert check([]) is None


def test_a_request_within_the_cooldown_is_told_the_remaining_wait() -> None:
    assert reason(check([ago(20)])) == (RejectReason.COOLDOWN, 40, "cooldown")
    assert reason(check([ago(59.5)])) == (RejectReason.COOLDOWN, 1, "cooldown")
    assert check([ago(60)]) is None


def test_the_cooldown_counts_from_the_latest_code() -> None:
    assert reason(check([ago(900), ago(10), ago(300)])) == (RejectReason.COOLDOWN, 50, "cooldown")


def test_the_hourly_cap_per_user_waits_until_the_oldest_code_leaves_the_hour() -> None:
    three = [ago(3000), ago(2000), ago(1000)]
    assert reason(check(three, pair=[])) == (TOO_MANY, 600, "account_hour")
    assert check([ago(4000), ago(2000), ago(1000)]) is None  # one is older than an hour


def test_the_hourly_cap_per_address_counts_only_this_accounts_codes() -> None:
    others = [ago(3500), ago(3000), ago(200), ago(100)]  # other accounts, for this address
    assert check([], others, pair=[]) is None
    mine = [ago(3500), ago(3000), ago(200), ago(100)]
    limited = check_request_limits(
        NOW, user_issued=[], pair_issued=mine, email_issued=mine, policy=POLICY
    )
    assert reason(limited) == (TOO_MANY, 100, "account_address_hour")


def test_one_account_cannot_use_up_the_addresss_daily_cap() -> None:
    # Six codes for this address over the day from this account: its daily share is spent...
    mine = [ago(80_000), ago(70_000), ago(60_000), ago(50_000), ago(40_000), ago(30_000)]
    assert reason(check([], mine, pair=mine)) == (TOO_MANY, 6_400, "account_address_day")
    # ...while another account, with the same codes counted against the address, still fits.
    assert check([], mine, pair=[]) is None
    # Eight for the address in the day, from whoever: the address's cap.
    eight = [ago(86_000 - i * 1000) for i in range(8)]
    assert reason(check([], eight, pair=[])) == (TOO_MANY, 400, "address_day")


def test_when_several_caps_are_hit_the_longer_wait_is_told() -> None:
    user = [ago(3590), ago(2000), ago(1000)]  # frees up in 10 s
    pair = [ago(1500), ago(1400), ago(1300), ago(1200)]  # frees up in 2100 s
    limited = check_request_limits(
        NOW, user_issued=user, pair_issued=pair, email_issued=pair, policy=POLICY
    )
    assert reason(limited) == (TOO_MANY, 2100, "account_address_hour")


def test_more_codes_than_the_cap_wait_for_enough_of_them_to_leave() -> None:
    # After the cap was lowered: five in the hour, cap three -> three must leave.
    user = [ago(3500), ago(3400), ago(3300), ago(3200), ago(3100)]
    assert reason(check(user, pair=[])) == (TOO_MANY, 300, "account_hour")


LOCKOUT = LockoutPolicy(account_threshold=5, email_threshold=10, base_seconds=60, max_seconds=3600)


def test_lockout_starts_at_the_threshold_and_doubles_up_to_the_maximum() -> None:
    lock = [LOCKOUT.lock_for(n, threshold=5) for n in range(1, 13)]
    assert lock[:4] == [None] * 4
    assert [d.total_seconds() for d in lock[4:] if d] == [60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert LOCKOUT.lock_for(10_000, threshold=5) == timedelta(seconds=3600)


def test_a_lockout_tells_the_remaining_wait_until_it_ends() -> None:
    assert locked_wait(NOW, None) is None
    assert locked_wait(NOW, NOW) is None
    assert locked_wait(NOW, NOW + timedelta(seconds=90.2)) == 91
