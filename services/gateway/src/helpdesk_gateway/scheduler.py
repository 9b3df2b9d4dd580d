"""The housekeeping job: rating reminders, ratings whose comment never came and reminders of
tickets waiting for the requester, every interval."""

from __future__ import annotations

import asyncio
import logging

from helpdesk_gateway import conversation, ratings
from helpdesk_gateway.context import GatewayContext

log = logging.getLogger("helpdesk.gateway.scheduler")


class Scheduler:
    def __init__(self, ctx: GatewayContext) -> None:
        self.ctx = ctx
        self.interval = ctx.settings.scheduler_interval_seconds

    async def run_once(self) -> None:
        await ratings.send_reminders(self.ctx)
        await ratings.finish_abandoned(self.ctx)
        await conversation.send_waiting_reminders(self.ctx)

    async def run(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduled work failed; trying again next interval")
            await asyncio.sleep(self.interval)
