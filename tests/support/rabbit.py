"""pytest fixtures for RabbitMQ vhosts (registered in tests/conftest.py); the vhost helper is
`helpdesk_harness.rabbit.Vhost`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpdesk_harness.rabbit import Vhost


@pytest.fixture(scope="session")
def shared_rabbit_url() -> Iterator[str]:
    """One vhost for the whole session: for tests that use unique queue names anyway."""
    vhost = Vhost()
    vhost.create()
    yield vhost.url
    vhost.delete()


@pytest.fixture
def rabbit_url() -> Iterator[str]:
    """A fresh vhost for one test: its own topology, no leftovers from other tests."""
    vhost = Vhost()
    vhost.create()
    yield vhost.url
    vhost.delete()
