"""Security tests: one module per threat, named after it, against the real servers.

The gateway's in-process world (fake Bot API, real RabbitMQ, the Mongo-wire server) is shared
with tests/integration/gateway.
"""

from tests.integration.gateway.conftest import world

__all__ = ["world"]
