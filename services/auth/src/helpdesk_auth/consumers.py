"""Auth's subscribers: each parses its contract and calls one use case.

A use case that hit a transient failure (MongoDB unreachable, a document that kept changing,
a publish that was not confirmed in time) is retried through a delay tier; the message is
acked only once the copy is queued. After `MAX_RETRIES` the error propagates and the broker
dead-letters the message for an operator.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from faststream.rabbit import RabbitRouter
from faststream.rabbit.annotations import RabbitMessage
from helpdesk_contracts import topology
from helpdesk_contracts.admin.v1 import DeleteUser, LookupUser, RevokeUser, UnrevokeUser
from helpdesk_contracts.auth.v1 import RequestCode, VerifyCode
from helpdesk_contracts.base import Message
from helpdesk_contracts.mail.v1 import MailFailed
from helpdesk_runtime.broker import Publisher, attempt_of, subscriber
from pymongo.errors import ConnectionFailure

from helpdesk_auth.admin import UserAdmin
from helpdesk_auth.errors import StoreConflictError
from helpdesk_auth.signin import SignIn

logger = logging.getLogger("helpdesk.auth.consumers")

SERVICE: topology.Consumer = "auth"
MAX_RETRIES = 8
RETRY_DELAYS_SECONDS = (1, 5, 30, 120, 600)


def build_router(signin: SignIn, admin: UserAdmin, publisher: Publisher) -> RabbitRouter:
    router = RabbitRouter()

    async def guarded(
        raw: RabbitMessage, contract: type[Message], work: Callable[[], Awaitable[None]]
    ) -> None:
        try:
            await work()
        except (ConnectionFailure, StoreConflictError, TimeoutError) as exc:
            attempt = attempt_of(raw)
            if attempt >= MAX_RETRIES:
                raise
            delay = RETRY_DELAYS_SECONDS[min(attempt, len(RETRY_DELAYS_SECONDS) - 1)]
            logger.warning(
                "transient failure; retrying later",
                extra={"error": type(exc).__name__, "attempt": attempt, "delay_seconds": delay},
            )
            await publisher.retry_later(
                raw, queue=topology.queue_name(SERVICE, contract), delay_seconds=delay
            )

    @subscriber(router, SERVICE, RequestCode)
    async def on_request_code(body: RequestCode, raw: RabbitMessage) -> None:
        """RequestCode -> SendMail + CodeSent, or CodeRejected."""
        await guarded(raw, RequestCode, lambda: signin.request_code(body))

    @subscriber(router, SERVICE, VerifyCode)
    async def on_verify_code(body: VerifyCode, raw: RabbitMessage) -> None:
        """VerifyCode -> UserAuthorized (and UserRevoked for a moved binding), or CodeRejected."""
        await guarded(raw, VerifyCode, lambda: signin.verify_code(body))

    @subscriber(router, SERVICE, MailFailed)
    async def on_mail_failed(body: MailFailed, raw: RabbitMessage) -> None:
        """MailFailed of a code email -> CodeRejected(mail_failed)."""
        await guarded(raw, MailFailed, lambda: signin.code_mail_failed(body))

    @subscriber(router, SERVICE, DeleteUser)
    async def on_delete_user(body: DeleteUser, raw: RabbitMessage) -> None:
        """DeleteUser -> UserRevoked(admin_deleted) + AdminCommandCompleted."""
        await guarded(raw, DeleteUser, lambda: admin.handle(body))

    @subscriber(router, SERVICE, RevokeUser)
    async def on_revoke_user(body: RevokeUser, raw: RabbitMessage) -> None:
        """RevokeUser -> UserRevoked(admin_revoked) + AdminCommandCompleted."""
        await guarded(raw, RevokeUser, lambda: admin.handle(body))

    @subscriber(router, SERVICE, UnrevokeUser)
    async def on_unrevoke_user(body: UnrevokeUser, raw: RabbitMessage) -> None:
        """UnrevokeUser -> AdminCommandCompleted (the account or address may sign in again)."""
        await guarded(raw, UnrevokeUser, lambda: admin.handle(body))

    @subscriber(router, SERVICE, LookupUser)
    async def on_lookup_user(body: LookupUser, raw: RabbitMessage) -> None:
        """LookupUser -> AdminCommandCompleted with what auth knows."""
        await guarded(raw, LookupUser, lambda: admin.handle(body))

    return router
