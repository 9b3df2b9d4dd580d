"""Fake Telegram Bot API server for tests and the sandbox.

- `FakeTelegramServer`: runs it in a background thread (`with FakeTelegramServer() as server:`).
- `python -m helpdesk_harness.fake_telegram --port N`: runs it as a process.
- `FakeTelegramClient`: the async test-side API (act as users, read the bot's messages, inject
  faults) over HTTP `/_test/...`; the same for both modes.
- fixtures.py: the `fake_telegram_server` and `fake_telegram` pytest fixtures.
"""

from helpdesk_harness.fake_telegram.client import FakeTelegramClient, FakeTelegramError
from helpdesk_harness.fake_telegram.models import ButtonPress, Call, ChatMessage, User, UserMessage
from helpdesk_harness.fake_telegram.server import FakeTelegramServer

__all__ = [
    "ButtonPress",
    "Call",
    "ChatMessage",
    "FakeTelegramClient",
    "FakeTelegramError",
    "FakeTelegramServer",
    "User",
    "UserMessage",
]
