"""The web chat page: a browser stand-in for Telegram on top of the fake Bot API (see server.py)."""
