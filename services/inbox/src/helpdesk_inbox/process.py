"""The use case: one mail in, its state written (status or quarantine, with the event), out.

Idempotent per mail (`source` = mailbox/UIDL): reading the same mail again, after a crash or
from the quarantine, writes no second event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bson.errors import InvalidDocument
from helpdesk_contracts.base import utc_now
from helpdesk_contracts.inbox.v1 import UnmatchedReason
from helpdesk_contracts.ticket.v1 import (
    MAX_CONVERSATION_FILES,
    CommentAuthor,
    TicketCommentAdded,
    TicketStatusChanged,
)
from helpdesk_runtime.optimistic import ConflictError
from pymongo.errors import PyMongoError

from helpdesk_inbox.adapters.comments import CommentStore
from helpdesk_inbox.adapters.links import LinkStore
from helpdesk_inbox.adapters.quarantine import Quarantined, QuarantineStore, UnmatchedMail
from helpdesk_inbox.changes import Verdict, status_key
from helpdesk_inbox.conversation import (
    attachments_of,
    comment_key,
    engineer_text,
    forward_instead,
)
from helpdesk_inbox.correlate import Announce, Defer, LinkedTicket, Lookups, Quarantine, decide
from helpdesk_inbox.errors import InboxError
from helpdesk_inbox.parse import ParsedMail, parse_headers_only, parse_message
from helpdesk_inbox.rules import Rules
from helpdesk_inbox.trust import SenderPolicy, Trust

Clock = Callable[[], datetime]
MAX_FILE_BYTES = 50 * 1024 * 1024
"""A file of a comment larger than this (the contract's and Telegram's limit) is only named."""
logger = logging.getLogger("helpdesk.inbox.process")


class Kind(StrEnum):
    ANNOUNCED = "announced"  # a TicketStatusChanged (or an engineer's TicketCommentAdded) is queued
    UNCHANGED = "unchanged"  # matched; same status, same mail or older than the last change
    QUARANTINED = "quarantined"  # kept for an operator; InboxMessageUnmatched queued (once)
    DEFERRED = "deferred"  # not matched yet; to be read again


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: Kind
    detail: str
    ticket_id: str | None = None
    quarantine_id: str | None = None
    reason: UnmatchedReason | None = None  # why it was quarantined

    @property
    def done(self) -> bool:
        return self.kind is not Kind.DEFERRED


PARSE_TIMEOUT_SECONDS = 30.0
EVIDENCE_BODY_BYTES = 64 * 1024
EVIDENCE_HEADER_BYTES = 256 * 1024


def evidence(raw: bytes) -> bytes:
    """The header block (bounded) and the first 64 KB of the body."""
    end = min((i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0), default=-1)
    if end < 0:
        return raw[: EVIDENCE_HEADER_BYTES + EVIDENCE_BODY_BYTES]
    head, body = raw[:end], raw[end:]
    return head[:EVIDENCE_HEADER_BYTES] + body[: EVIDENCE_BODY_BYTES + 4]


def source_of(mailbox: str, uidl: str) -> str:
    return f"{mailbox}/{uidl}"


class MailProcessor:
    def __init__(
        self,
        links: LinkStore,
        quarantine: QuarantineStore,
        rules: Rules,
        *,
        senders: SenderPolicy,
        match_grace: timedelta,
        parse_timeout: float = PARSE_TIMEOUT_SECONDS,
        clock: Clock = utc_now,
    ) -> None:
        self.links = links
        self._comments: CommentStore | None = None
        self.quarantine = quarantine
        self.rules = rules  # replaced as a whole when the rules file is read again
        self.senders = senders
        self.parse_timeout = parse_timeout
        self.match_grace = match_grace
        self.clock = clock

    async def parse(self, raw: bytes, *, headers_only: bool = False) -> ParsedMail:
        # Pure but CPU-bound on large mail: kept off the event loop, and bounded in time so
        # one pathological mail cannot hold up the mails after it (the thread is left to end).
        rules = self.rules
        work = asyncio.to_thread(
            parse_message, raw, rules, headers_only=headers_only, now=self.clock()
        )
        try:
            return await asyncio.wait_for(work, timeout=self.parse_timeout)
        except TimeoutError:
            logger.warning("parsing a mail took over %ss; quarantining it", self.parse_timeout)
            return parse_headers_only(raw, rules, f"parse-timeout:{self.parse_timeout:g}s")

    @property
    def comments(self) -> CommentStore:
        """Engineers' comments, kept next to the links (made on first use)."""
        if self._comments is None:
            self._comments = CommentStore(self.links.collection.database)
        return self._comments

    def trust(self, parsed: ParsedMail) -> Trust:
        return self.senders.judge(parsed.from_addresses, parsed.auth_results)

    async def process(
        self,
        raw: bytes,
        *,
        mailbox: str,
        uidl: str,
        headers_only: bool = False,
        first_seen: datetime | None = None,
        received_at: datetime | None = None,
        may_defer: bool = True,
    ) -> Outcome:
        """`first_seen`: when this mail was first deferred; `received_at`: when the inbox first
        read it (a requeued mail's quarantine time). Statuses are ordered by when the inbox
        received them, never by the mail's own Date header, which the sender writes."""
        parsed = await self.parse(raw, headers_only=headers_only)
        now = self.clock()
        try:
            return await self._apply(
                raw,
                parsed,
                mailbox=mailbox,
                uidl=uidl,
                first_seen=first_seen,
                received=received_at or first_seen or now,
                may_defer=may_defer,
                now=now,
            )
        except (PyMongoError, InboxError, ConflictError):
            raise  # the store is down or busy: the whole poll stops and starts over later
        except Exception as exc:
            # A mail nobody foresaw must not stop every later poll at the same place: it is
            # kept for an operator like any other mail the inbox cannot use.
            logger.exception("mail could not be processed; quarantining it")
            decision = Quarantine(
                UnmatchedReason.UNPARSEABLE,
                f"could not be processed ({type(exc).__name__}); see the inbox log",
            )
            source = source_of(mailbox, uidl)
            return await self._quarantine(
                raw, parsed, decision, mailbox=mailbox, uidl=uidl, source=source, now=now
            )

    async def _apply(
        self,
        raw: bytes,
        parsed: ParsedMail,
        *,
        mailbox: str,
        uidl: str,
        first_seen: datetime | None,
        received: datetime,
        may_defer: bool,
        now: datetime,
    ) -> Outcome:
        trust = self.trust(parsed)
        found = (
            await self.links.lookups(
                token=parsed.token, reply_ids=parsed.reply_to_ids, number=parsed.number
            )
            if trust.trusted
            else Lookups()
        )
        decision = decide(
            parsed,
            found,
            trust=trust,
            first_seen=first_seen,
            now=now,
            match_grace=self.match_grace if may_defer else timedelta(0),
        )
        source = source_of(mailbox, uidl)
        if (forward := forward_instead(parsed, decision)) is not None:
            return await self._comment(
                raw, parsed, forward.ticket, forward.link_number, source, now
            )
        match decision:
            case Defer(detail):
                return Outcome(Kind.DEFERRED, detail)
            case Announce():
                return await self._announce(parsed, decision, source, received, now, raw=raw)
            case Quarantine():
                return await self._quarantine(
                    raw, parsed, decision, mailbox=mailbox, uidl=uidl, source=source, now=now
                )

    async def _announce(
        self,
        parsed: ParsedMail,
        decision: Announce,
        source: str,
        received: datetime,
        now: datetime,
        *,
        raw: bytes = b"",
    ) -> Outcome:
        status = parsed.status
        if status is None:  # decide() announces only mail with a status
            raise ValueError("cannot announce a mail without a status")
        # The engineer's words, also where only the question template found them.
        said = engineer_text(parsed)
        event = TicketStatusChanged(
            ticket_id=decision.ticket.ticket_id,
            reference=decision.ticket.reference,
            status=status,
            raw_status=parsed.raw_status,
            itsm_number=parsed.number,
            comment=parsed.comment or (said.text if said else None),
            changed_at=received,
            source_email_id=parsed.message_id[:998] if parsed.message_id else None,
            email_subject=parsed.subject[:998] or None,
        )
        verdict = await self.links.record_status(
            event,
            key=status_key(status, parsed.raw_status),
            source=source,
            link_number=decision.link_number,
            now=now,
        )
        detail = f"{status.value} by {decision.via}: {verdict.value}"
        if said is not None and verdict in (Verdict.SAME_STATUS, Verdict.STALE):
            # No news of status, but the engineer wrote something: that is the news.
            return await self._comment(
                raw, parsed, decision.ticket, decision.link_number, source, now
            )
        if said is not None and verdict is Verdict.ANNOUNCE:
            await self.comments.remember(decision.ticket.ticket_id, comment_key(said.text), now)
        kind = Kind.ANNOUNCED if verdict is Verdict.ANNOUNCE else Kind.UNCHANGED
        return Outcome(kind, detail, ticket_id=decision.ticket.ticket_id)

    async def _comment(
        self,
        raw: bytes,
        parsed: ParsedMail,
        ticket: LinkedTicket,
        link_number: str | None,
        source: str,
        now: datetime,
    ) -> Outcome:
        said = engineer_text(parsed)
        if said is None:  # callers check; kept for the type checker
            raise ValueError("cannot forward a mail without an engineer's text")
        mail_files = attachments_of(raw)
        fitting = [f for f in mail_files if len(f.data) <= MAX_FILE_BYTES]
        kept = fitting[:MAX_CONVERSATION_FILES]
        left_out = [f.filename for f in mail_files if f not in kept]
        files = [
            await self.comments.store_file(
                file, ticket_id=ticket.ticket_id, source=source, index=index, now=now
            )
            for index, file in enumerate(kept)
        ]
        event = TicketCommentAdded(
            ticket_id=ticket.ticket_id,
            reference=ticket.reference,
            author=CommentAuthor.SUPPORT,
            text=said.text,
            question=said.question,
            files=files,
            files_omitted=left_out[:50],
            itsm_number=parsed.number,
            email_message_id=parsed.message_id[:998] if parsed.message_id else None,
            email_subject=parsed.subject[:998] or None,
            commented_at=parsed.date or now,
        )
        recorded = await self.comments.record(
            event, key=comment_key(said.text), source=source, link_number=link_number, now=now
        )
        kind = Kind.ANNOUNCED if recorded else Kind.UNCHANGED
        detail = "comment" + (" (question)" if said.question else "")
        return Outcome(
            kind, f"{detail}: {'queued' if recorded else 'seen before'}", ticket.ticket_id
        )

    async def _quarantine(
        self,
        raw: bytes,
        parsed: ParsedMail,
        decision: Quarantine,
        *,
        mailbox: str,
        uidl: str,
        source: str,
        now: datetime,
    ) -> Outcome:
        if decision.ticket is not None and decision.link_number:
            await self.links.link_number(decision.ticket.ticket_id, decision.link_number, now)
        # An outsider's mail is kept only as evidence (headers and the start of the body), so
        # nobody can fill the database by writing to the helpdesk address.
        keep = raw if decision.reason is not UnmatchedReason.UNTRUSTED_SENDER else evidence(raw)
        try:
            stored = await self._put(raw, keep, parsed, decision, mailbox, uidl, source, now)
        except InvalidDocument:  # e.g. over 16 MB after all: keep the evidence, not the mail
            logger.warning("quarantine record too large; keeping headers and 64 KB")
            stored = await self._put(
                raw, evidence(raw), parsed, decision, mailbox, uidl, source, now
            )
        return Outcome(
            Kind.QUARANTINED,
            f"{decision.reason.value}: {decision.detail}",
            ticket_id=decision.ticket.ticket_id if decision.ticket else None,
            quarantine_id=stored.quarantine_id,
            reason=decision.reason,
        )

    async def _put(
        self,
        raw: bytes,
        keep: bytes,
        parsed: ParsedMail,
        decision: Quarantine,
        mailbox: str,
        uidl: str,
        source: str,
        now: datetime,
    ) -> Quarantined:
        return await self.quarantine.put(
            UnmatchedMail(
                mailbox=mailbox,
                uidl=uidl,
                raw=keep,
                raw_size=len(raw),
                headers_only=parsed.headers_only,
                subject=parsed.subject,
                sender=parsed.sender,
                message_id=parsed.message_id,
                received_at=parsed.date,
                reason=decision.reason,
                detail=decision.detail,
                ticket_id=decision.ticket.ticket_id if decision.ticket else None,
            ),
            source=source,
            now=now,
        )

    async def confirmed(self, mailbox: str, uidl: str) -> bool:
        """Every event this mail caused has been published (confirmed) by the outbox relay."""
        source = source_of(mailbox, uidl)
        return not (
            await self.links.has_pending(source) or await self.quarantine.has_pending(source)
        )
