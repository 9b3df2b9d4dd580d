"""Integration tests: real servers, started by the fixtures in tests/support.

The clock rule (tests/README.md): a time that meets a server's clock (a TTL index, a lease, a
retention cut-off the database compares with its own now) is written relative to the real now,
never as a calendar date. CI proves it by running the tests of the folders below a second time
with the test process and the Mongo-wire server 400 days ahead (`faketime`, marker
`server_clock`); a new folder whose service owns TTL indexes, leases or retention joins the list.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SERVER_CLOCK_FOLDERS = ("auth", "gateway", "inbox", "janitor", "mailer", "runtime")

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    folders = {_HERE / name for name in SERVER_CLOCK_FOLDERS}
    for item in items:
        if folders.intersection(item.path.parents):
            item.add_marker(pytest.mark.server_clock)
