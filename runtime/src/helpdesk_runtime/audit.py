"""Audit trail of admin commands: one log line per command a service receives, in every service.

Added to the broker's middlewares, it writes `admin command received` (with `audit: true`, the
command's routing key, `requested_by` and message id) for every delivery from `helpdesk.admin`,
before the handler runs, whatever the handler then does. Handlers add the outcome themselves.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from faststream.middlewares import BaseMiddleware
from helpdesk_contracts.base import ADMIN_EXCHANGE

logger = logging.getLogger("helpdesk.audit")

_MAX_REQUESTER = 128


def audit_fields(exchange: str | None, routing_key: str | None, body: bytes) -> dict[str, Any]:
    """The audit line's fields for a delivery, or {} when it is not an admin command."""
    if exchange != ADMIN_EXCHANGE:
        return {}
    requested_by: object = None
    try:
        payload = json.loads(body)
        if isinstance(payload, dict):
            requested_by = payload.get("requested_by")
    except ValueError:
        pass  # a malformed command is dead-lettered by the handler; it is still audited
    return {
        "audit": True,
        "command": routing_key,
        "requested_by": str(requested_by)[:_MAX_REQUESTER] if requested_by else None,
    }


class AdminAuditMiddleware(BaseMiddleware):
    """Log every admin command on receipt (see module docstring)."""

    async def on_receive(self) -> None:
        raw = getattr(self.msg, "raw_message", self.msg)
        fields = audit_fields(
            getattr(raw, "exchange", None),
            getattr(raw, "routing_key", None),
            getattr(raw, "body", b"") or b"",
        )
        if fields:
            logger.info("admin command received", extra=fields)
