"""pytest fixtures for Dovecot POP3 (registered in tests/conftest.py); the server is
`helpdesk_harness.pop3_server.DovecotServer`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpdesk_harness.pop3_server import DovecotServer


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """One Dovecot for the session. Shared: use `add_user()` for a mailbox of your own."""
    with DovecotServer() as server:
        yield server


@pytest.fixture
def dovecot_fresh() -> Iterator[DovecotServer]:
    """A private Dovecot with empty mailboxes, for tests that stop it or count its sessions."""
    with DovecotServer() as server:
        yield server
