"""Polling the helpdesk mailbox: one POP3 session per poll, only unseen UIDLs retrieved.

A session: UIDL + LIST, compare with the stored UIDLs, RETR the new ones (TOP only for the ones
over the size limit), process each, record them as done in batches, then (if configured) DELE
those whose events the outbox relay has confirmed, and QUIT.

Crash safety: the state a mail causes (status + event, or quarantine + event) is written before
its UIDL is recorded as done, and writing it twice writes nothing new. A crash anywhere means the
mail is read again next poll and no event is duplicated. DELE is sent only once a mail's events
left the outbox (published with a broker confirm), and takes effect at QUIT.

One poller per mailbox at a time: with a lease (`poll_lease`), each poll first takes or extends
the mailbox's lease in MongoDB and renews it after every batch of mails; replicas that find it
held stand by and take over once the holder stops (it lets go on shutdown) or its lease expires.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from helpdesk_contracts.base import utc_now
from helpdesk_runtime.lease import Lease, LeaseHolder, LeaseLostError, instance_name
from helpdesk_runtime.logs import log_context
from helpdesk_runtime.metrics import Metrics

from helpdesk_inbox.adapters.pop3 import MailRef, Pop3Mailbox, Pop3Session
from helpdesk_inbox.adapters.seen import SeenState, SeenStore
from helpdesk_inbox.errors import (
    MailboxError,
    MailboxUnavailableError,
    MessageFetchError,
)
from helpdesk_inbox.process import Clock, Kind, MailProcessor, Outcome

logger = logging.getLogger("helpdesk.inbox.poller")
FLUSH_EVERY = 25
"""Done UIDLs are written in batches: one update per batch, not per mail (the array is large)."""
CONFIRM_CHECK_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class PollOptions:
    mailbox: str  # the name seen UIDLs and quarantine entries are stored under
    max_messages: int
    max_message_bytes: int
    delete: bool
    confirm_timeout: float
    baseline_existing: bool


@dataclass
class PollReport:
    listed: int = 0
    new: int = 0
    baseline: int = 0
    retrieved: int = 0
    headers_only: int = 0
    fetch_errors: int = 0
    deleted: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    def as_log(self) -> dict[str, int]:
        counts = {
            "listed": self.listed,
            "new": self.new,
            "baseline": self.baseline,
            "retrieved": self.retrieved,
            "headers_only": self.headers_only,
            "fetch_errors": self.fetch_errors,
            "deleted": self.deleted,
        }
        return counts | {kind.value: self.outcomes[kind.value] for kind in Kind}


@dataclass
class _Batch:
    done: list[str] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)


class Poller:
    def __init__(
        self,
        mailbox: Pop3Mailbox,
        seen: SeenStore,
        processor: MailProcessor,
        options: PollOptions,
        *,
        on_written: Callable[[], None] = lambda: None,
        metrics: Metrics | None = None,
        clock: Clock = utc_now,
        lease: Lease | None = None,
    ) -> None:
        self.mailbox = mailbox
        self.lease = lease
        self.owner = instance_name(unique=True)
        self.standing_by: LeaseHolder | None = None
        self._holding = False  # this poller took the lease: renew it while it works
        self.seen = seen
        self.processor = processor
        self.options = options
        self.on_written = on_written
        self.clock = clock
        self._lock = asyncio.Lock()
        self._mails = (
            metrics.counter(
                "helpdesk_inbox_mails", "Mails read from the mailbox, by outcome.", ("outcome",)
            )
            if metrics
            else None
        )
        self._quarantined = (
            metrics.counter(
                "helpdesk_inbox_quarantined",
                "Mails set aside for an operator, by reason (untrusted_sender: not from "
                "InfraManager).",
                ("reason",),
            )
            if metrics
            else None
        )
        self._polls = (
            metrics.counter("helpdesk_inbox_polls", "POP3 polls, by result.", ("result",))
            if metrics
            else None
        )

    async def poll_once(self) -> PollReport:
        """One POP3 session; raises a MailboxError when the mailbox cannot be used."""
        async with self._lock:
            session = await self.mailbox.open()
            try:
                report, deleted = await self._work(session)
            except BaseException:
                await session.close()  # no QUIT: nothing marked for deletion is deleted
                raise
            await session.quit()
            if deleted:
                await self.seen.forget(self.options.mailbox, deleted, self.clock())
            return report

    async def poll_if_leader(self) -> PollReport | None:
        """One session if this poller holds (or can take) the mailbox's lease, else None."""
        if self.lease is not None:
            holder = await self.lease.acquire(self.owner, self.clock())
            self._holding = holder is None
            if holder != self.standing_by:
                if holder is None:
                    logger.info("polling the mailbox", extra={"lease_owner": self.owner})
                elif self.standing_by is None:
                    logger.info(
                        "another poller holds the mailbox; standing by",
                        extra={"lease_owner": holder.owner},
                    )
                self.standing_by = holder
            if holder is not None:
                return None
        return await self.poll_once()

    async def poll_forever(self, interval: float) -> None:
        """Poll every `interval` seconds until cancelled; failures wait for the next poll."""
        try:
            while True:
                await self._poll_and_count(interval)
                await asyncio.sleep(interval)
        finally:
            if self.lease is not None and self._holding:
                # Let a standing-by replica take over now rather than when the lease expires.
                try:
                    await self.lease.release(self.owner)
                except Exception as exc:
                    logger.warning("could not release the poll lease: %r", exc)

    async def _poll_and_count(self, interval: float) -> None:
        result = "ok"
        try:
            report = await self.poll_if_leader()
            if report is None:
                result = "standby"
            elif report.new or report.deleted or report.baseline:
                logger.info("mailbox polled", extra=report.as_log())
        except MailboxUnavailableError as exc:
            result = "unavailable"
            logger.warning("mailbox unavailable; next poll in %ss: %s", interval, exc)
        except MailboxError as exc:  # TLS or login: an operator has to act
            result = type(exc).__name__
            logger.error("mailbox refused: %s", exc)
        except LeaseLostError as exc:  # the session was closed without QUIT: nothing deleted
            result = "lease_lost"
            logger.warning("poll stopped: %s", exc)
        except asyncio.CancelledError:
            raise
        except Exception:  # e.g. MongoDB down: the next poll starts over, nothing is lost
            result = "failed"
            logger.exception("poll failed; next poll in %ss", interval)
        if self._polls is not None:
            self._polls.labels(result=result).inc()

    async def _work(self, session: Pop3Session) -> tuple[PollReport, list[str]]:
        opts = self.options
        refs = await session.listing()
        state = await self.seen.load(opts.mailbox)
        report = PollReport(listed=len(refs))
        present = {ref.uidl for ref in refs}
        known = state.done | state.dele_pending | set(state.deferred)
        await self.seen.forget(opts.mailbox, sorted(known - present), self.clock())
        if not state.exists and opts.baseline_existing:
            if await self.seen.baseline(opts.mailbox, [ref.uidl for ref in refs], self.clock()):
                report.baseline = len(refs)
                return report, []
            state = await self.seen.load(opts.mailbox)  # another poller got there first
        new = [ref for ref in refs if ref.uidl not in state.done]
        # Never-read mail first: mail still waiting for its ticket must not hold it up.
        new.sort(key=lambda ref: ref.uidl in state.deferred)
        report.new = len(new)
        batch = _Batch()
        for ref in new[: opts.max_messages]:
            outcome = await self._read_one(session, ref, state, report)
            if outcome is None:
                continue
            if outcome.done:
                batch.done.append(ref.uidl)
                if opts.delete and ref.size <= opts.max_message_bytes:
                    batch.delete.append(ref.uidl)  # oversized mail stays: only headers are kept
            elif ref.uidl not in state.deferred:
                batch.deferred.append(ref.uidl)
            if len(batch.done) >= FLUSH_EVERY:
                await self._flush(batch, state)
        await self._flush(batch, state)
        deleted: list[str] = []
        if opts.delete and state.dele_pending:
            deleted = await self._delete_confirmed(session, refs, state.dele_pending)
            report.deleted = len(deleted)
        return report, deleted

    async def _read_one(
        self, session: Pop3Session, ref: MailRef, state: SeenState, report: PollReport
    ) -> Outcome | None:
        opts = self.options
        with log_context(uidl=ref.uidl):
            too_large = ref.size > opts.max_message_bytes
            try:
                raw = await (session.headers(ref) if too_large else session.retrieve(ref))
            except MessageFetchError as exc:  # this message only; the others still get read
                report.fetch_errors += 1
                logger.warning("message not readable; will retry next poll: %s", exc)
                return None
            report.retrieved += not too_large
            report.headers_only += too_large
            outcome = await self.processor.process(
                raw,
                mailbox=opts.mailbox,
                uidl=ref.uidl,
                headers_only=too_large,
                first_seen=state.deferred.get(ref.uidl),
            )
            report.outcomes[outcome.kind.value] += 1
            if self._mails is not None:
                self._mails.labels(outcome=outcome.kind.value).inc()
            if self._quarantined is not None and outcome.reason is not None:
                self._quarantined.labels(reason=outcome.reason.value).inc()
            if outcome.kind in (Kind.ANNOUNCED, Kind.QUARANTINED):
                self.on_written()  # wake the outbox relay
            log = logger.info if outcome.kind is not Kind.DEFERRED else logger.debug
            log(
                "mail %s",
                outcome.kind.value,
                extra={
                    "detail": outcome.detail,
                    "ticket_id": outcome.ticket_id,
                    "quarantine_id": outcome.quarantine_id,
                    "size": ref.size,
                },
            )
            return outcome

    async def _flush(self, batch: _Batch, state: SeenState) -> None:
        now = self.clock()
        if self.lease is not None and self._holding:
            await self.lease.renew(self.owner, now)  # LeaseLostError: another poller took over
        await self.seen.mark_done(self.options.mailbox, batch.done, delete=batch.delete, now=now)
        await self.seen.mark_deferred(self.options.mailbox, batch.deferred, now)
        state.done.update(batch.done)
        state.dele_pending.update(batch.delete)
        for uidl in batch.deferred:
            state.deferred[uidl] = now
        batch.done, batch.delete, batch.deferred = [], [], []

    async def _delete_confirmed(
        self, session: Pop3Session, refs: list[MailRef], pending: set[str]
    ) -> list[str]:
        """DELE the pending messages whose events are confirmed, waiting a bounded time."""
        waiting = [ref for ref in refs if ref.uidl in pending]
        deleted: list[str] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.confirm_timeout
        while waiting:
            still: list[MailRef] = []
            for ref in waiting:
                if await self.processor.confirmed(self.options.mailbox, ref.uidl):
                    await session.delete(ref)
                    deleted.append(ref.uidl)
                else:
                    still.append(ref)
            waiting = still
            if not waiting or loop.time() >= deadline:
                break
            await asyncio.sleep(CONFIRM_CHECK_SECONDS)
        if waiting:
            logger.info("events not confirmed yet; DELE next poll", extra={"count": len(waiting)})
        return deleted
