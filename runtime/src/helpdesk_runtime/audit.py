"""The gate every admin command passes: signature, time stamp and nonce checks, and the audit line.

`AdminGuard.middleware` sits in every service broker's middlewares, so it sees each delivery to
an admin work queue whatever exchange or route brought it there (`helpdesk.admin`, a retry
through the consumer's delay exchange, a queue someone bound elsewhere), plus anything arriving
from `helpdesk.admin`. For each it writes one `admin command received` line (`audit: true`, the
command, `requested_by`, the key that signed it, the verdict and, if refused, why) before any
handler runs.

A well-formed command runs only if its Ed25519 signature verifies against one of the named
public keys, its time stamp is within 5 minutes of now and its nonce was never seen. Otherwise
the guard answers `AdminCommandCompleted(outcome=rejected, detail=<reason>)` and acks. A body
that is not a valid command of the queue's type is passed on so the handler dead-letters it like
any poison message (it is audited as `malformed`).

Nonces are kept in the `admin_nonces` collection (unique `_id`, TTL index) for a day, longer than
any retry of a command through the delay tiers. A redelivery of an accepted command (the
broker's `redelivered` flag, or the retry header of the delay path) with the same message id
passes without a time check: handlers are idempotent on the message id.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from faststream.middlewares import BaseMiddleware
from helpdesk_contracts import topology
from helpdesk_contracts.admin.v1 import AdminCommandCompleted, Outcome
from helpdesk_contracts.base import ADMIN_EXCHANGE, AdminCommand
from pydantic import ValidationError
from pymongo.errors import DuplicateKeyError, PyMongoError

from helpdesk_runtime import signing

if TYPE_CHECKING:
    from faststream._internal.context.repository import ContextRepo
    from faststream.message import StreamMessage
    from pymongo.asynchronous.collection import AsyncCollection

    from helpdesk_runtime.broker import Publisher

logger = logging.getLogger("helpdesk.audit")

NONCE_COLLECTION = "admin_nonces"
NONCE_RETENTION = timedelta(days=1)
ATTEMPT_HEADER = "x-helpdesk-attempt"  # the delay path's retry counter (runtime.broker)
RETRY_DELAYS_SECONDS = (1.0, 5.0, 30.0, 120.0)
"""Delayed retries when the nonce store is unreachable; then the delivery is dead-lettered."""

_MAX_TEXT = 128


def admin_queues() -> dict[str, type[AdminCommand]]:
    """Every admin work queue of the topology, with the command it carries."""
    return {
        topology.queue_name(consumer, message): message
        for consumer, messages in topology.SUBSCRIPTIONS.items()
        for message in messages
        if issubclass(message, AdminCommand)
    }


@dataclass(frozen=True, slots=True)
class Verdict:
    command: str
    requested_by: str | None
    key: str | None
    accepted: bool
    reason: str
    message_id: str | None

    def audit_fields(self, *, exchange: str | None, routing_key: str | None) -> dict[str, Any]:
        return {
            "audit": True,
            "command": self.command,
            "requested_by": self.requested_by,
            "key": self.key,
            "verdict": "accepted" if self.accepted else "rejected",
            "reason": self.reason,
            "exchange": exchange,
            "arrived_with_key": (routing_key or "")[:_MAX_TEXT] or None,
        }


class Nonces(Protocol):
    async def seen_with(self, key: str, nonce: str) -> str | None: ...

    async def claim(self, key: str, nonce: str, *, message_id: str, now: datetime) -> bool: ...


class NonceStore:
    """Nonces of accepted commands (`admin_nonces`, one document per key + nonce)."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("expires_at", expireAfterSeconds=0)

    async def seen_with(self, key: str, nonce: str) -> str | None:
        """The message id an accepted command with this nonce had, if any."""
        document = await self.collection.find_one({"_id": f"{key}:{nonce}"})
        return None if document is None else str(document.get("message_id"))

    async def claim(self, key: str, nonce: str, *, message_id: str, now: datetime) -> bool:
        """Record the nonce; False when it was already recorded (a replay)."""
        try:
            await self.collection.insert_one(
                {
                    "_id": f"{key}:{nonce}",
                    "message_id": message_id,
                    "accepted_at": now,
                    "expires_at": now + NONCE_RETENTION,
                }
            )
        except DuplicateKeyError:
            return False
        return True


@dataclass
class AdminGuard:
    """Verifies admin commands for one service (see the module docstring)."""

    service: str
    public_keys: dict[str, str]
    nonces: Nonces | None = None
    publisher: Publisher | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    queues: dict[str, type[AdminCommand]] = field(default_factory=admin_queues)
    _keys: dict[str, Ed25519PublicKey] = field(init=False)

    def __post_init__(self) -> None:
        self._keys = {name: signing.parse_public_key(v) for name, v in self.public_keys.items()}

    def middleware(self) -> Callable[..., BaseMiddleware]:
        """The broker middleware factory (FastStream builds one middleware per delivery)."""
        return functools.partial(AdminGuardMiddleware, guard=self)

    async def judge(
        self, command_type: type[AdminCommand], body: bytes, *, redelivered: bool, attempt: int
    ) -> Verdict | None:
        """The verdict on one delivery, or None when the body is not a valid command."""
        try:
            command = command_type.model_validate_json(body)
            document = json.loads(body)
        except (ValidationError, ValueError):
            return None
        message_id = str(command.message_id)
        now = self.clock()

        def verdict(key: str | None, reason: str, *, accepted: bool = False) -> Verdict:
            return Verdict(
                command=command_type.routing_key,
                requested_by=command.requested_by[:_MAX_TEXT],
                key=key,
                accepted=accepted,
                reason=reason,
                message_id=message_id,
            )

        checked = signing.check(command_type.routing_key, document, self._keys, now=now)
        if checked.refusal not in (None, signing.Refusal.STALE) or checked.signature is None:
            return verdict(checked.key, str(checked.refusal))
        signature = checked.signature
        if self.nonces is None:
            return verdict(checked.key, "no nonce store")
        if redelivered or attempt > 0:
            earlier = await self.nonces.seen_with(signature.key, signature.nonce)
            if earlier == message_id:
                return verdict(checked.key, "redelivery of an accepted command", accepted=True)
        if checked.refusal is signing.Refusal.STALE:
            return verdict(checked.key, str(checked.refusal))
        if not await self.nonces.claim(
            signature.key, signature.nonce, message_id=message_id, now=now
        ):
            return verdict(checked.key, str(signing.Refusal.REPLAYED))
        return verdict(checked.key, "signature verified", accepted=True)

    async def answer_rejected(self, verdict: Verdict, correlation_id: str) -> None:
        if self.publisher is None:
            return
        await self.publisher.publish(
            AdminCommandCompleted(
                correlation_id=correlation_id,  # type: ignore[arg-type]  # pydantic parses it
                command=verdict.command,
                service=self.service,
                outcome=Outcome.REJECTED,
                detail=f"not executed: {verdict.reason}",
            )
        )


class AdminGuardMiddleware(BaseMiddleware):
    """Audit and verify every admin command before its handler (see the module docstring)."""

    def __init__(self, msg: Any, /, *, context: ContextRepo, guard: AdminGuard) -> None:
        super().__init__(msg, context=context)
        self.guard = guard
        self.audited = False

    def _queue(self) -> str | None:
        handler = self.context.get_local("handler_")
        queue = getattr(getattr(handler, "queue", None), "name", None)
        return queue if isinstance(queue, str) else None

    def _command_type(self) -> type[AdminCommand] | None:
        queue = self._queue()
        return self.guard.queues.get(queue) if queue is not None else None

    async def consume_scope(
        self, call_next: Callable[[StreamMessage[Any]], Awaitable[Any]], msg: StreamMessage[Any]
    ) -> Any:
        raw = getattr(msg, "raw_message", None)
        exchange = getattr(raw, "exchange", None)
        routing_key = getattr(raw, "routing_key", None)
        command_type = self._command_type()
        if command_type is None:
            if exchange == ADMIN_EXCHANGE:
                # A queue bound to helpdesk.admin outside the topology: record it, judge nothing
                # (its handler is not an admin handler and expects some other contract).
                logger.warning(
                    "admin command received",
                    extra=_malformed(None, exchange, routing_key, queue=self._queue()),
                )
            return await call_next(msg)
        self.audited = True
        attempt = _attempt(msg.headers.get(ATTEMPT_HEADER))
        try:
            verdict = await self.guard.judge(
                command_type,
                msg.body,
                redelivered=bool(getattr(raw, "redelivered", False)),
                attempt=attempt,
            )
        except PyMongoError as exc:
            await self._retry_or_raise(msg, exc, attempt)
            return None
        if verdict is None:
            logger.info(
                "admin command received",
                extra=_malformed(command_type, exchange, routing_key),
            )
            return await call_next(msg)  # the handler dead-letters what does not validate
        fields = verdict.audit_fields(exchange=exchange, routing_key=routing_key)
        if verdict.accepted:
            logger.info("admin command received", extra=fields)
            return await call_next(msg)
        logger.warning("admin command received", extra=fields)
        await self.guard.answer_rejected(verdict, verdict.message_id or msg.message_id)
        return None

    async def _retry_or_raise(self, msg: StreamMessage[Any], exc: Exception, attempt: int) -> None:
        queue = self._queue()
        publisher = self.guard.publisher
        if publisher is None or attempt >= len(RETRY_DELAYS_SECONDS) or not queue:
            raise exc
        logger.warning(
            "admin command received; nonce store unavailable, retrying later",
            extra={"audit": True, "error": type(exc).__name__, "attempt": attempt},
        )
        await publisher.retry_later(
            msg,  # type: ignore[arg-type]  # a RabbitMessage: this middleware is Rabbit's
            queue=queue,
            delay_seconds=RETRY_DELAYS_SECONDS[attempt],
        )

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: Any = None,
    ) -> bool | None:
        # A body FastStream could not even decode never reaches consume_scope; audit it here.
        if not self.audited and exc_type is not None and self.msg is not None:
            exchange = getattr(self.msg, "exchange", None)
            command_type = self._command_type()
            if command_type is not None:
                logger.info(
                    "admin command received",
                    extra=_malformed(
                        command_type, exchange, getattr(self.msg, "routing_key", None)
                    ),
                )
        return False


def _malformed(
    command_type: type[AdminCommand] | None,
    exchange: str | None,
    routing_key: str | None,
    *,
    queue: str | None = None,
) -> dict[str, Any]:
    return {
        "audit": True,
        "command": command_type.routing_key if command_type is not None else None,
        "requested_by": None,
        "key": None,
        "verdict": "malformed" if command_type is not None else "not an admin queue",
        "reason": (
            "not a valid command; dead-lettered"
            if command_type is not None
            else f"delivered to {queue}, which takes no admin command"
        ),
        "exchange": exchange,
        "arrived_with_key": (routing_key or "")[:_MAX_TEXT] or None,
    }


def _attempt(raw: object) -> int:
    if isinstance(raw, int):
        return max(0, raw)
    if isinstance(raw, str | bytes):
        try:
            return max(0, int(raw))
        except ValueError:
            return 0
    return 0
