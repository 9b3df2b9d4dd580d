"""pytest fixtures for the fake Telegram Bot API (registered in tests/conftest.py).

- `fake_telegram_server`: a started in-process `FakeTelegramServer` (fresh per test); gives
  `base_url` and `token` for `AiohttpSession(api=TelegramAPIServer.from_base(base_url))`.
- `fake_telegram`: an open `FakeTelegramClient` on that server, for async tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from helpdesk_harness.fake_telegram.client import FakeTelegramClient
from helpdesk_harness.fake_telegram.server import FakeTelegramServer


@pytest.fixture
def fake_telegram_server() -> Iterator[FakeTelegramServer]:
    with FakeTelegramServer() as server:
        yield server


@pytest_asyncio.fixture
async def fake_telegram(
    fake_telegram_server: FakeTelegramServer,
) -> AsyncIterator[FakeTelegramClient]:
    async with fake_telegram_server.client() as client:
        yield client
