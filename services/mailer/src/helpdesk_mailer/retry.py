"""When to try a failed delivery again, and when to stop. Pure.

Exponential backoff with jitter: attempt n waits base * 2^(n-1), capped, times a random factor
in [0.5, 1.0]. The wait then goes through one of the broker's fixed delay tiers (1, 5, 30, 120,
600 s): the smallest tier not shorter than the wait, so jitter only spreads retries over
neighbouring tiers. Near the deadline the longest tier that still fits is used; when none fits,
the delivery gives up.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from helpdesk_contracts import topology


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base_seconds: float
    max_delay_seconds: float
    total_seconds: float

    def next_delay(
        self, *, attempts: int, first_attempt_at: datetime, now: datetime, rng: random.Random
    ) -> float | None:
        """Seconds until the next attempt after `attempts` failed ones, or None to give up."""
        wanted = min(self.max_delay_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        jittered = wanted * (0.5 + 0.5 * rng.random())
        delay = float(topology.pick_delay_tier(jittered))
        remaining = (first_attempt_at + timedelta(seconds=self.total_seconds) - now).total_seconds()
        if delay <= remaining:
            return delay
        fitting = [tier for tier in topology.DELAY_TIERS_SECONDS if tier <= remaining]
        return float(fitting[-1]) if fitting else None
