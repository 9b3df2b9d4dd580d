"""pytest fixtures for OpenLDAP slapd (registered in tests/conftest.py); the server is
`helpdesk_harness.ldap_server.SlapdServer`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpdesk_harness.ldap_server import SlapdServer


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlapdServer]:
    """A shared slapd with DEMO_EMPLOYEES and LDAPS. Read-only: mutate only `slapd_fresh`."""
    server = SlapdServer(tls=True, workdir=tmp_path_factory.mktemp("slapd"))
    server.start()
    yield server
    server.close()


@pytest.fixture
def slapd_fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlapdServer]:
    """A private slapd (DEMO_EMPLOYEES, LDAPS) for one test that mutates, stops or restarts it."""
    server = SlapdServer(tls=True, workdir=tmp_path_factory.mktemp("slapd-fresh"))
    server.start()
    yield server
    server.close()
