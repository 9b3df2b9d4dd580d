"""Rate limits of code requests: cooldown and hourly caps, with the wait the user is told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpdesk_auth.limits import Limited, LimitPolicy, check_request_limits
from helpdesk_contracts.auth.v1 import RejectReason

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
POLICY = LimitPolicy(cooldown_seconds=60, per_user_per_hour=3, per_email_per_hour=4)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def check(user: list[datetime], email: list[datetime] | None = None) -> Limited | None:
    return check_request_limits(NOW, user_issued=user, email_issued=email or [], policy=POLICY)


def test_a_first_request_is_allowed() -> None:
    assert check([]) is None


def test_a_request_within_the_cooldown_is_told_the_remaining_wait() -> None:
    assert check([ago(20)]) == Limited(RejectReason.COOLDOWN, 40)
    assert check([ago(59.5)]) == Limited(RejectReason.COOLDOWN, 1)
    assert check([ago(60)]) is None


def test_the_cooldown_counts_from_the_latest_code() -> None:
    assert check([ago(900), ago(10), ago(300)]) == Limited(RejectReason.COOLDOWN, 50)


def test_the_hourly_cap_per_user_waits_until_the_oldest_code_leaves_the_hour() -> None:
    assert check([ago(3000), ago(2000), ago(1000)]) == Limited(RejectReason.TOO_MANY_REQUESTS, 600)
    assert check([ago(4000), ago(2000), ago(1000)]) is None  # one is older than an hour


def test_the_hourly_cap_per_address_counts_codes_for_any_user() -> None:
    email = [ago(3500), ago(3000), ago(200), ago(100)]
    assert check([], email) == Limited(RejectReason.TOO_MANY_REQUESTS, 100)
    assert check([], email[1:]) is None


def test_when_both_caps_are_hit_the_longer_wait_is_told() -> None:
    user = [ago(3590), ago(2000), ago(1000)]  # frees up in 10 s
    email = [ago(1500), ago(1400), ago(1300), ago(1200)]  # frees up in 2100 s
    assert check(user, email) == Limited(RejectReason.TOO_MANY_REQUESTS, 2100)


def test_more_codes_than_the_cap_wait_for_enough_of_them_to_leave() -> None:
    # After the cap was lowered: five in the hour, cap three -> three must leave.
    user = [ago(3500), ago(3400), ago(3300), ago(3200), ago(3100)]
    assert check(user) == Limited(RejectReason.TOO_MANY_REQUESTS, 300)
