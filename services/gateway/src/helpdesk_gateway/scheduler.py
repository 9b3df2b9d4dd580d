"""The housekeeping job, every interval: rating reminders, ratings whose comment never came, and
personal data: tickets of deleted people erased after the grace period, old tickets deleted."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from helpdesk_gateway import ratings
from helpdesk_gateway.context import GatewayContext

log = logging.getLogger("helpdesk.gateway.scheduler")


class Scheduler:
    def __init__(self, ctx: GatewayContext) -> None:
        self.ctx = ctx
        self.interval = ctx.settings.scheduler_interval_seconds

    async def run_once(self) -> None:
        await ratings.send_reminders(self.ctx)
        await ratings.finish_abandoned(self.ctx)
        await self.personal_data()

    async def personal_data(self) -> None:
        now = self.ctx.clock()
        erased = await self.ctx.tickets.erase_due(now)
        if erased:
            log.info("personal data erased from tickets", extra={"tickets": erased})
        retention = self.ctx.settings.ticket_retention_days
        if retention:
            purged = await self.ctx.tickets.purge_older_than(now - timedelta(days=retention))
            if purged:
                log.info("tickets past retention deleted", extra={"tickets": purged})

    async def run(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduled work failed; trying again next interval")
            await asyncio.sleep(self.interval)
