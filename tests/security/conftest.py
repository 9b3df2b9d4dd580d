"""Security tests: one module per threat, named after it, against the real servers.

The in-process worlds of the gateway (fake Bot API, RabbitMQ, the Mongo-wire server) and of
auth (slapd, RabbitMQ, the Mongo-wire server) are shared with tests/integration.
"""

from tests.integration.auth.conftest import (
    auth_rabbit_url,
    auth_settings,
    auth_vhost,
    auth_world,
    clock,
)
from tests.integration.gateway.conftest import world

__all__ = ["auth_rabbit_url", "auth_settings", "auth_vhost", "auth_world", "clock", "world"]
