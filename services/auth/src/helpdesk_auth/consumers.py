"""Auth's subscribers: each parses its contract and calls one use case.

A use case that hit a transient failure (`TRANSIENT`: MongoDB unreachable, a document that kept
changing, a publish that was not confirmed in time) is retried by the runtime's one retry rule
(`helpdesk_runtime.retry`), then dead-lettered for an operator.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from faststream.rabbit import RabbitRouter
from faststream.rabbit.annotations import RabbitMessage
from helpdesk_contracts import topology
from helpdesk_contracts.admin.v1 import DeleteUser, LookupUser, RevokeUser
from helpdesk_contracts.auth.v1 import RequestCode, VerifyCode
from helpdesk_contracts.base import Message
from helpdesk_contracts.mail.v1 import MailFailed
from helpdesk_runtime.broker import subscriber
from helpdesk_runtime.optimistic import ConflictError
from helpdesk_runtime.retry import Retry
from pymongo.errors import ConnectionFailure

from helpdesk_auth.admin import UserAdmin
from helpdesk_auth.signin import SignIn

SERVICE: topology.Consumer = "auth"
TRANSIENT: tuple[type[Exception], ...] = (ConnectionFailure, ConflictError, TimeoutError)
"""`ConflictError` covers `StoreConflictError` (a claim race) and the optimistic loops."""


def build_router(signin: SignIn, admin: UserAdmin, retry: Retry) -> RabbitRouter:
    router = RabbitRouter()

    async def guarded(
        raw: RabbitMessage, contract: type[Message], work: Callable[[], Awaitable[None]]
    ) -> None:
        await retry.run(raw, topology.queue_name(SERVICE, contract), work)

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

    @subscriber(router, SERVICE, LookupUser)
    async def on_lookup_user(body: LookupUser, raw: RabbitMessage) -> None:
        """LookupUser -> AdminCommandCompleted with what auth knows."""
        await guarded(raw, LookupUser, lambda: admin.handle(body))

    return router
