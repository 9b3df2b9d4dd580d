"""The housekeeping job, every interval: rating reminders, ratings whose comment never came,
reminders of tickets waiting for the requester, and personal data: tickets of deleted people
erased after the grace period, old tickets deleted."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from helpdesk_gateway.adapters.drafts import AbandonedDrafts
from helpdesk_gateway.context import GatewayContext
from helpdesk_gateway.notifications import Notifications
from helpdesk_gateway.ratings import Ratings

log = logging.getLogger("helpdesk.gateway.scheduler")

PERSONAL_DATA_EVERY = timedelta(hours=1)
"""Retention work needs no minute precision; once an hour spares the database the scans."""
DRAFT_FORGET_GRACE = timedelta(days=7)
"""How long after its expiry an unsent draft nobody came back to is kept: until then its owner
is told it expired; after, it is simply gone."""


class Scheduler:
    def __init__(
        self,
        ctx: GatewayContext,
        ratings: Ratings,
        notifications: Notifications,
        drafts: AbandonedDrafts | None = None,
    ) -> None:
        self.ctx = ctx
        self.ratings = ratings
        self.notifications = notifications
        self.drafts = drafts
        self.interval = ctx.settings.scheduler_interval_seconds
        self._personal_data_due: datetime | None = None

    async def run_once(self) -> None:
        await self.ratings.send_reminders()
        await self.ratings.finish_abandoned()
        await self.notifications.send_waiting_reminders()
        now = self.ctx.clock()
        if self._personal_data_due is None or now >= self._personal_data_due:
            await self.personal_data()
            self._personal_data_due = now + PERSONAL_DATA_EVERY

    async def personal_data(self) -> None:
        """Forget abandoned drafts, erase deleted people's tickets, delete old tickets."""
        now = self.ctx.clock()
        if self.drafts is not None:
            max_age = timedelta(seconds=self.ctx.settings.draft_max_age_seconds)
            dropped = await self.drafts.forget(now - max_age - DRAFT_FORGET_GRACE)
            if dropped:
                log.info("abandoned drafts forgotten", extra={"drafts": dropped})
        forget_files = self.ctx.attachments.forget_conversation_files
        erased = await self.ctx.tickets.erase_due(now, forget_files=forget_files)
        if erased:
            log.info("personal data erased from tickets", extra={"tickets": erased})
        retention = self.ctx.settings.ticket_retention_days
        if retention:
            purged = await self.ctx.tickets.purge_older_than(
                now - timedelta(days=retention), forget_files=forget_files
            )
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
