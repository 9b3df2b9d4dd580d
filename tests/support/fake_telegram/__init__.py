"""Fake Telegram Bot API server for tests and the sandbox."""
