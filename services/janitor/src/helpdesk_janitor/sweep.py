"""One retention pass over everything the janitor cleans, as a real run or a dry run.

Both kinds walk the same data with the same decisions (policy.py); a dry run just skips the
deletes. The order matters: photos first, then orphan chunks (which a crash in an earlier run's
photo pass may have left), then quarantined mail, and only then the read-model records of tickets
whose photos this run has just removed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from helpdesk_janitor.adapters.attachments import AttachmentStore, FileEntry
from helpdesk_janitor.adapters.quarantine import QuarantineStore
from helpdesk_janitor.adapters.tickets import TicketStore
from helpdesk_janitor.policy import (
    Decision,
    RetentionPolicy,
    Rule,
    TicketState,
    decide_file,
    linked_tickets,
    orphan_due,
)
from helpdesk_janitor.report import RunReport, Tally

Renew = Callable[[], Awaitable[None]]
"""Called after every batch: keeps the lease, or raises to stop the run."""


@dataclass(frozen=True, slots=True)
class Sweep:
    attachments: AttachmentStore
    tickets: TicketStore
    quarantine: QuarantineStore
    policy: RetentionPolicy
    batch_size: int

    async def run(self, report: RunReport, *, now: datetime, renew: Renew) -> RunReport:
        """Fill `report` with what was (or, in a dry run, would be) deleted as of `now`."""
        await self._photos(report, now, renew)
        await self._orphan_chunks(report, now, renew)
        await self._quarantine(report, now, renew)
        report.forgotten_tickets = await self.tickets.forget(
            self.policy.forget_cutoff(now), dry_run=report.dry_run
        )
        return report

    async def _photos(self, report: RunReport, now: datetime, renew: Renew) -> None:
        async for page in self.attachments.pages(self.batch_size):
            tickets = await self.tickets.linked(
                (e.file.ticket_id for e in page if e.file.ticket_id is not None),
                (e.file.file_id for e in page),
            )
            doomed: list[tuple[FileEntry, Decision]] = []
            for entry in page:
                decision = decide_file(entry.file, tickets, self.policy, now)
                if decision.keep is not None:
                    report.kept[decision.keep] += 1
                else:
                    doomed.append((entry, decision))
            deleted = await self._delete_files(doomed, dry_run=report.dry_run)
            for entry, decision in doomed:
                if entry.raw_id in deleted and decision.rule is not None:
                    self._count_photo(report, entry, decision.rule, tickets)
            await renew()

    async def _delete_files(
        self, doomed: list[tuple[FileEntry, Decision]], *, dry_run: bool
    ) -> set[object]:
        if dry_run:
            return {entry.raw_id for entry, _ in doomed}
        abandoned = [e.raw_id for e, d in doomed if d.rule is Rule.ABANDONED]
        linked = [e.raw_id for e, d in doomed if d.rule is not Rule.ABANDONED]
        gone = await self.attachments.delete_files(abandoned, only_unlinked=True)
        gone += await self.attachments.delete_files(linked, only_unlinked=False)
        return set(gone)

    @staticmethod
    def _count_photo(
        report: RunReport, entry: FileEntry, rule: Rule, tickets: list[TicketState]
    ) -> None:
        report.purged[rule].add(1, entry.file.size)
        if rule is Rule.ABANDONED:
            return
        for ticket in linked_tickets(entry.file, tickets):
            if ticket.reference is not None:
                report.tickets.setdefault(ticket.reference, Tally()).add(1, entry.file.size)

    async def _orphan_chunks(self, report: RunReport, now: datetime, renew: Renew) -> None:
        tally = report.purged[Rule.ORPHAN_CHUNKS]
        async for owners in self.attachments.chunk_owner_pages(self.batch_size):
            orphans = [
                o
                for o in await self.attachments.orphans_among(owners)
                if orphan_due(o.last_write, self.policy, now)
            ]
            if not orphans:
                continue
            if not report.dry_run:
                removed = set(await self.attachments.delete_orphans([o.files_id for o in orphans]))
                orphans = [o for o in orphans if o.files_id in removed]
            tally.add(sum(o.chunks for o in orphans), sum(o.bytes for o in orphans))
            await renew()

    async def _quarantine(self, report: RunReport, now: datetime, renew: Renew) -> None:
        tally = report.purged[Rule.QUARANTINE]
        cutoff = self.policy.quarantine_cutoff(now)
        async for page in self.quarantine.expired_pages(cutoff, self.batch_size):
            gone = page if report.dry_run else await self.quarantine.delete(page, cutoff)
            tally.add(len(gone), sum(m.bytes for m in gone))
            await renew()
