"""Outgoing message pacing: a token bucket per chat and one for the whole bot.

Telegram allows about one message per second per chat (short bursts are tolerated) and about 30
per second overall. A bucket per chat with a small burst means a normal reply is never delayed,
while a flood to one chat (an album's progress, a broadcast) is spread out. Reservations may take
the bucket below zero: callers queue in order and each is told how long to wait.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class TokenBucket:
    def __init__(self, rate: float, burst: int, clock: Clock) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def reserve(self) -> float:
        """Take one token; returns the seconds to wait before using it."""
        self._refill()
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def pause(self, seconds: float) -> None:
        """Nothing may pass for `seconds` (Telegram said retry_after)."""
        self._refill()
        self._tokens = min(self._tokens, -seconds * self.rate)

    def idle(self) -> bool:
        self._refill()
        return self._tokens >= self.burst


class OutgoingLimiter:
    """Waits as long as the per-chat and the global budget require."""

    def __init__(
        self,
        *,
        per_chat_rate: float,
        per_chat_burst: int,
        global_rate: float,
        global_burst: int,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._per_chat = (per_chat_rate, per_chat_burst)
        self._clock = clock
        self._sleep = sleep
        self._global = TokenBucket(global_rate, global_burst, clock)
        self._chats: dict[int, TokenBucket] = {}

    def _bucket(self, chat_id: int) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if len(self._chats) > 10_000:
                self._forget_idle()
            rate, burst = self._per_chat
            bucket = self._chats[chat_id] = TokenBucket(rate, burst, self._clock)
        return bucket

    def _forget_idle(self) -> None:
        for chat_id in [c for c, b in self._chats.items() if b.idle()]:
            del self._chats[chat_id]

    async def acquire(self, chat_id: int) -> float:
        """Wait for a slot to send to this chat; returns the seconds waited."""
        waited = 0.0
        delay = self._bucket(chat_id).reserve()
        if delay > 0:
            await self._sleep(delay)
            waited += delay
        # The global slot is taken only once the chat may send, so a slow chat never holds
        # global capacity other chats could use.
        delay = self._global.reserve()
        if delay > 0:
            await self._sleep(delay)
            waited += delay
        return waited

    def pause(self, chat_id: int, seconds: float) -> None:
        self._bucket(chat_id).pause(seconds)
