"""Admin commands the gateway answers: clear a saved location, broadcast, reload the catalogue,
build the manager's report. Each returns the AdminCommandCompleted to publish."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from helpdesk_contracts.admin.v1 import (
    AdminCommandCompleted,
    Broadcast,
    BuildReport,
    ClearLocation,
    Outcome,
    ReloadCategories,
)
from helpdesk_contracts.base import AdminCommand

from helpdesk_gateway.adapters.notifications import DeliveryState, Notification
from helpdesk_gateway.context import GatewayContext
from helpdesk_gateway.domain.report import build_report, period_bounds
from helpdesk_gateway.errors import CatalogueError

log = logging.getLogger("helpdesk.gateway.admin")

SERVICE = "gateway"
BROADCAST_POLL_SECONDS = 0.5


def completed(
    command: AdminCommand,
    outcome: Outcome,
    detail: str = "",
    result: Mapping[str, object] | None = None,
) -> AdminCommandCompleted:
    return AdminCommandCompleted.model_validate(
        {
            "correlation_id": command.message_id,
            "command": command.routing_key,
            "service": SERVICE,
            "outcome": outcome,
            "detail": detail,
            "result": dict(result or {}),
        }
    )


async def clear_location(ctx: GatewayContext, command: ClearLocation) -> AdminCommandCompleted:
    if await ctx.users.clear_location(command.telegram_user_id):
        return completed(command, Outcome.DONE, f"location of {command.telegram_user_id} cleared")
    return completed(command, Outcome.NOT_FOUND, f"no user {command.telegram_user_id}")


async def broadcast(ctx: GatewayContext, command: Broadcast) -> AdminCommandCompleted:
    """Queue the text for every active user, wait until the notifier is through, count."""
    group = f"broadcast:{command.message_id}"
    notifications = [
        Notification(
            key=f"{group}:{user.telegram_user_id}",
            chat_id=user.chat_id,
            text=command.text,
            group=group,
        )
        async for user in ctx.users.broadcast_audience()
    ]
    await ctx.notifications.enqueue_many(notifications, ctx.clock())
    ctx.wake_notifier()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ctx.settings.broadcast_timeout_seconds
    counts = await ctx.notifications.group_counts(group)
    while counts[DeliveryState.PENDING.value] and loop.time() < deadline:
        await asyncio.sleep(BROADCAST_POLL_SECONDS)
        counts = await ctx.notifications.group_counts(group)
    result = {"recipients": sum(counts.values()), **counts}
    log.info("broadcast finished", extra=result)
    if counts[DeliveryState.PENDING.value]:
        return completed(command, Outcome.FAILED, "timed out; the rest is still being sent", result)
    return completed(command, Outcome.DONE, f"sent to {counts['sent']} users", result)


async def reload_categories(
    ctx: GatewayContext, command: ReloadCategories
) -> AdminCommandCompleted:
    try:
        catalogue = ctx.catalogue.reload()
    except CatalogueError as exc:
        log.warning("catalogue reload refused", extra={"error": str(exc)})
        return completed(command, Outcome.FAILED, f"kept the previous catalogue: {exc}"[:4000])
    result = {"categories": len(catalogue), "choices": len(catalogue.leaves())}
    return completed(command, Outcome.DONE, f"{len(catalogue)} categories loaded", result)


async def report(ctx: GatewayContext, command: BuildReport) -> AdminCommandCompleted:
    start, end = period_bounds(command.since, command.until, ctx.timezone)
    tickets = await ctx.tickets.submitted_between(start, end)
    figures = build_report(tickets, command.since, command.until, ctx.timezone)
    return completed(command, Outcome.DONE, f"{len(tickets)} tickets", dict(figures))
