"""Backoff with jitter through the broker's delay tiers, bounded by a total time."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from helpdesk_mailer.retry import RetryPolicy

START = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def delay(policy: RetryPolicy, attempts: int, seed: int, elapsed: float = 0.0) -> float | None:
    return policy.next_delay(
        attempts=attempts,
        first_attempt_at=START,
        now=START + timedelta(seconds=elapsed),
        rng=random.Random(seed),
    )


def test_delays_grow_exponentially_through_the_tiers_up_to_the_cap() -> None:
    policy = RetryPolicy(base_seconds=2, max_delay_seconds=600, total_seconds=86_400)
    for seed in range(20):
        series = [delay(policy, attempts, seed) for attempts in range(1, 12)]
        assert series[0] in (1.0, 5.0)
        assert series[-1] == 600.0
        assert series == sorted(series, key=lambda d: d or 0.0)


def test_jitter_spreads_one_attempt_over_neighbouring_tiers() -> None:
    policy = RetryPolicy(base_seconds=2, max_delay_seconds=600, total_seconds=86_400)
    # Attempt 4 wants 16 s x [0.5, 1.0] = 8..16 s: the 30 s tier. Attempt 3: 4..8 s.
    assert {delay(policy, 3, seed) for seed in range(50)} == {5.0, 30.0}
    assert {delay(policy, 4, seed) for seed in range(50)} == {30.0}


def test_the_cap_holds() -> None:
    policy = RetryPolicy(base_seconds=2, max_delay_seconds=30, total_seconds=86_400)
    assert {delay(policy, 50, seed) for seed in range(20)} <= {30.0}


@pytest.mark.parametrize(
    ("elapsed", "expected"),
    [
        (0.0, 600.0),  # plenty of time left
        (700.0, 120.0),  # 600 s would overshoot the deadline: the longest tier that fits
        (1198.0, 1.0),
        (1199.5, None),  # less than the shortest tier left: give up
        (5000.0, None),
    ],
)
def test_retries_stop_at_the_total_time(elapsed: float, expected: float | None) -> None:
    policy = RetryPolicy(base_seconds=1200, max_delay_seconds=1200, total_seconds=1200)
    assert delay(policy, 1, 0, elapsed) == expected
