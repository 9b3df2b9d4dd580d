"""Test doubles shared by the unit tests of several services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RecordingPublisher:
    """Stands in for `Publisher.retry_later`: records each delayed copy, or fails if told to."""

    fail: bool = False
    retries: list[tuple[str, float]] = field(default_factory=list)

    async def retry_later(self, message: Any, *, queue: str, delay_seconds: float) -> int:
        if self.fail:
            raise ConnectionError("channel closed")
        self.retries.append((queue, delay_seconds))
        return int(delay_seconds)
