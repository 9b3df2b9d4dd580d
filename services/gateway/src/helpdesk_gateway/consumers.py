"""Broker consumers: contract in, one use case, contract out. A transient failure (`TRANSIENT`)
is retried by the runtime's one retry rule instead of dead-lettering a good message."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from faststream.rabbit import RabbitRouter
from faststream.rabbit.annotations import RabbitMessage
from helpdesk_contracts import topology
from helpdesk_contracts.admin.v1 import (
    AdminCommandCompleted,
    Broadcast,
    BuildReport,
    ClearLocation,
    ReloadCategories,
)
from helpdesk_contracts.auth.v1 import CodeRejected, CodeSent, UserAuthorized, UserRevoked
from helpdesk_contracts.base import Message
from helpdesk_contracts.ticket.v1 import (
    TicketCancelRequested,
    TicketCommentAdded,
    TicketEmailed,
    TicketEmailFailed,
    TicketReopenRequested,
    TicketReplyFailed,
    TicketStatusChanged,
)
from helpdesk_runtime.broker import subscriber
from helpdesk_runtime.optimistic import ConflictError
from helpdesk_runtime.retry import Retry
from pymongo.errors import ConnectionFailure

from helpdesk_gateway import admin
from helpdesk_gateway.accounts import Accounts
from helpdesk_gateway.context import GatewayContext
from helpdesk_gateway.lifecycle import TicketLifecycle
from helpdesk_gateway.notifications import Notifications

SERVICE: topology.Consumer = "gateway"
TRANSIENT: tuple[type[Exception], ...] = (ConnectionFailure, ConflictError)


def _retrying[M: Message](
    retry: Retry, contract: type[M], use_case: Callable[[M], Awaitable[None]]
) -> Callable[[M, RabbitMessage], Awaitable[None]]:
    """Run a use case; when MongoDB is unreachable (or a ticket is contended) try again later."""
    queue = topology.queue_name(SERVICE, contract)

    async def handle(body: M, message: RabbitMessage) -> None:
        await retry.run(message, queue, lambda: use_case(body))

    # FastStream reads the body's type from the annotations; set them to the real classes
    # (a generic wrapper has only a type variable there).
    handle.__annotations__ = {"body": contract, "message": RabbitMessage, "return": None}
    handle.__name__ = handle.__qualname__ = f"on_{contract.__name__}"
    return handle


def build_consumers(
    ctx: GatewayContext,
    accounts: Accounts,
    lifecycle: TicketLifecycle,
    notifications: Notifications,
    retry: Retry,
) -> RabbitRouter:
    router = RabbitRouter()

    def on[M: Message](contract: type[M], use_case: Callable[[M], Awaitable[None]]) -> None:
        subscriber(router, SERVICE, contract)(_retrying(retry, contract, use_case))

    async def answer(completed: AdminCommandCompleted) -> None:
        await ctx.publisher.publish(completed)

    on(CodeSent, accounts.code_sent)
    on(CodeRejected, accounts.code_rejected)
    on(UserAuthorized, accounts.authorized)
    on(UserRevoked, accounts.revoked)
    on(TicketEmailed, lifecycle.apply)
    on(TicketEmailFailed, lifecycle.apply)
    on(TicketStatusChanged, lifecycle.apply)
    on(TicketCommentAdded, notifications.on_comment_added)
    on(TicketReplyFailed, notifications.on_reply_failed)
    on(TicketReopenRequested, notifications.on_request_sent)
    on(TicketCancelRequested, notifications.on_request_sent)

    async def clear_location(command: ClearLocation) -> None:
        await answer(await admin.clear_location(ctx, command))

    async def broadcast(command: Broadcast) -> None:
        await answer(await admin.broadcast(ctx, command))

    async def reload_categories(command: ReloadCategories) -> None:
        await answer(await admin.reload_categories(ctx, command))

    async def build_report(command: BuildReport) -> None:
        await answer(await admin.report(ctx, command))

    on(ClearLocation, clear_location)
    on(Broadcast, broadcast)
    on(ReloadCategories, reload_categories)
    on(BuildReport, build_report)
    return router
