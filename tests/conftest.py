"""Root conftest: registers the real-server fixtures from tests/support.

Every server fixture is session-scoped and started lazily, so `pytest tests/unit` starts nothing.
"""

pytest_plugins = [
    "tests.support.rabbit",
    "tests.support.mongo",
    "tests.support.ldap_server",
    "tests.support.pop3_server",
    "tests.support.smtp_sink",
    "tests.support.telegram",
]
