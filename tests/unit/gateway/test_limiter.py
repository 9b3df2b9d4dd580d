"""Outgoing pacing: per chat about 1/s with a small burst, 30/s overall, 429 and 403 handling."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter
from aiogram.methods import AnswerCallbackQuery, SendChatAction, SendMessage, TelegramMethod
from helpdesk_gateway.bot.limits import OutgoingLimitMiddleware, paced_chat
from helpdesk_gateway.domain.limiter import OutgoingLimiter, TokenBucket


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def limiter(time: FakeTime, *, chat_rate: float = 1.0, burst: int = 3) -> OutgoingLimiter:
    return OutgoingLimiter(
        per_chat_rate=chat_rate,
        per_chat_burst=burst,
        global_rate=30.0,
        global_burst=30,
        clock=time.clock,
        sleep=time.sleep,
    )


async def test_a_normal_reply_is_never_delayed_and_a_flood_is_spread_to_one_per_second() -> None:
    time = FakeTime()
    pace = limiter(time)
    waits = [await pace.acquire(chat_id=1) for _ in range(6)]
    assert waits == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    # Another chat is not held up by the first one's flood.
    assert await pace.acquire(chat_id=2) == 0.0


async def test_the_whole_bot_stays_under_thirty_messages_a_second() -> None:
    time = FakeTime()
    pace = limiter(time, chat_rate=100.0, burst=100)
    start = time.now
    for chat_id in range(90):
        await pace.acquire(chat_id=chat_id)
    # 30 at once (burst), then 60 more at 30/s.
    assert time.now - start == pytest.approx(2.0)


async def test_a_pause_holds_the_chat_for_retry_after() -> None:
    time = FakeTime()
    pace = limiter(time)
    pace.pause(7, 5.0)
    assert await pace.acquire(chat_id=7) == pytest.approx(6.0)
    assert await pace.acquire(chat_id=8) == 0.0


def test_a_bucket_refills_over_time() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=1.0, burst=2, clock=lambda: now[0])
    assert [bucket.reserve(), bucket.reserve(), bucket.reserve()] == [0.0, 0.0, 1.0]
    now[0] = 10.0
    assert bucket.reserve() == 0.0


def test_only_calls_that_write_a_message_are_paced() -> None:
    assert paced_chat(SendMessage(chat_id=5, text="x")) == 5
    assert paced_chat(SendChatAction(chat_id=5, action="typing")) is None
    assert paced_chat(AnswerCallbackQuery(callback_query_id="q")) is None


class Script:
    """make_request that fails as told, then succeeds."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.calls = 0

    async def __call__(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


def middleware(time: FakeTime, blocked: list[int], *, attempts: int = 3) -> OutgoingLimitMiddleware:
    async def on_blocked(chat_id: int) -> None:
        blocked.append(chat_id)

    return OutgoingLimitMiddleware(
        limiter(time),
        attempts=attempts,
        retry_after_max=60,
        on_blocked=on_blocked,
        sleep=time.sleep,
    )


@pytest.fixture
def bot() -> Bot:
    return Bot("123456:TEST")


async def test_429_waits_retry_after_and_tries_again(bot: Bot) -> None:
    time, blocked = FakeTime(), list[int]()
    method = SendMessage(chat_id=1, text="x")
    script = Script(TelegramRetryAfter(method=method, message="Too Many Requests", retry_after=4))
    result: object = await middleware(time, blocked)(script, bot, method)
    assert result == "ok"
    assert script.calls == 2
    assert sum(time.slept) == pytest.approx(5.0)  # 4 s asked, plus the chat's own pacing


async def test_429_gives_up_after_the_attempts(bot: Bot) -> None:
    time, blocked = FakeTime(), list[int]()
    method = SendMessage(chat_id=1, text="x")
    error = TelegramRetryAfter(method=method, message="Too Many Requests", retry_after=1)
    script = Script(error, error, error)
    with pytest.raises(TelegramRetryAfter):
        await middleware(time, blocked, attempts=3)(script, bot, method)
    assert script.calls == 3


async def test_403_marks_the_chat_blocked_and_is_not_retried(bot: Bot) -> None:
    time, blocked = FakeTime(), list[int]()
    method = SendMessage(chat_id=42, text="x")
    script = Script(TelegramForbiddenError(method=method, message="Forbidden: bot was blocked"))
    with pytest.raises(TelegramForbiddenError):
        await middleware(time, blocked)(script, bot, method)
    assert script.calls == 1
    assert blocked == [42]
