"""Which ticket a parsed mail is about, and what to do with it: pure decisions, no I/O.

Only mail from a trusted sender (trust.py) is matched at all: anything else is quarantined as
`untrusted_sender`. Correlation order (DESIGN.md): our reference token, then
In-Reply-To/References matching a Message-ID the mailer sent, then an InfraManager number
already linked to a ticket. A number is linked only by a trusted mail that also carries our
token or threads to our ticket email; a number never linked so is never guessed at
(`unknown_number`).

The inbox learns tokens and Message-IDs only from `TicketEmailed`. A notification can be read
before that event is consumed (the broker was down, the queue is behind), so mail that carries
something that may match later (a token, reply headers, a number) is deferred: its UIDL stays
unprocessed and it is read again on later polls, for `match_grace`. After that it is quarantined;
mail carrying nothing that could ever match is quarantined at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from helpdesk_contracts.inbox.v1 import UnmatchedReason

from helpdesk_inbox.parse import ParsedMail
from helpdesk_inbox.trust import Trust


@dataclass(frozen=True, slots=True)
class LinkedTicket:
    """A ticket the inbox knows: learned from TicketEmailed."""

    ticket_id: str
    reference: str


@dataclass(frozen=True, slots=True)
class Lookups:
    """What the store holds for the mail's token, reply Message-IDs and number."""

    by_token: LinkedTicket | None = None
    by_message_id: LinkedTicket | None = None
    by_number: LinkedTicket | None = None


@dataclass(frozen=True, slots=True)
class Announce:
    """Matched, with a status: record it (and announce it if it is a real change)."""

    ticket: LinkedTicket
    via: str  # "token", "message_id" or "number"
    link_number: str | None  # the InfraManager number to link to the ticket, if any


@dataclass(frozen=True, slots=True)
class Quarantine:
    """Keep the raw mail for an operator and report it."""

    reason: UnmatchedReason
    detail: str
    ticket: LinkedTicket | None = None  # matched, but nothing to announce
    link_number: str | None = None


@dataclass(frozen=True, slots=True)
class Defer:
    """Leave the mail unprocessed; read it again on the next poll."""

    detail: str


Decision = Announce | Quarantine | Defer


def _match(parsed: ParsedMail, found: Lookups) -> tuple[LinkedTicket, str] | None:
    if parsed.token is not None:
        # The token decides: a mail naming one of our tickets is never given to another.
        return (found.by_token, "token") if found.by_token else None
    if found.by_message_id is not None:
        return found.by_message_id, "message_id"
    if found.by_number is not None:
        return found.by_number, "number"
    return None


def _link_number(parsed: ParsedMail, ticket: LinkedTicket, found: Lookups) -> str | None:
    # A number already linked to another ticket stays with that ticket (the first match wins).
    if parsed.number is None:
        return None
    if found.by_number is not None and found.by_number.ticket_id != ticket.ticket_id:
        return None
    return parsed.number


def _tried(parsed: ParsedMail) -> str:
    parts = []
    if parsed.token:
        parts.append(f"reference {parsed.token} unknown")
    else:
        parts.append("no reference token")
    parts.append(
        f"{len(parsed.reply_to_ids)} reply Message-IDs unknown"
        if parsed.reply_to_ids
        else "no reply headers"
    )
    parts.append(f"number {parsed.number} not linked" if parsed.number else "no number")
    return ", ".join(parts)


def decide(
    parsed: ParsedMail,
    found: Lookups,
    *,
    trust: Trust,
    first_seen: datetime | None,
    now: datetime,
    match_grace: timedelta,
) -> Decision:
    """What to do with one mail. `first_seen`: when it was first deferred (None: never)."""
    if not trust.trusted:
        return Quarantine(UnmatchedReason.UNTRUSTED_SENDER, trust.reason)
    if parsed.headers_only:
        return Quarantine(
            UnmatchedReason.TOO_LARGE,
            f"{parsed.size} bytes of headers kept; the message is over the size limit and was "
            "left on the server unread",
        )
    if parsed.auto_reply:
        return Quarantine(
            UnmatchedReason.UNPARSEABLE, "automatic reply or delivery report, not a notification"
        )
    if parsed.ambiguous:
        return Quarantine(
            UnmatchedReason.AMBIGUOUS, f"mentions several tickets: {', '.join(parsed.tokens)}"
        )
    matched = _match(parsed, found)
    if matched is None:
        if not parsed.has_text:
            problems = ", ".join(parsed.problems) or "empty"
            return Quarantine(UnmatchedReason.UNPARSEABLE, f"no readable text ({problems})")
        may_match_later = bool(parsed.token or parsed.reply_to_ids or parsed.number)
        waited = timedelta(0) if first_seen is None else now - first_seen
        if may_match_later and waited < match_grace:
            return Defer(f"{_tried(parsed)}; waiting for TicketEmailed")
        if parsed.number and not parsed.token and not parsed.reply_to_ids:
            return Quarantine(
                UnmatchedReason.UNKNOWN_NUMBER,
                f"number {parsed.number} was never linked to a ticket by a mail with our "
                "reference or reply headers",
            )
        return Quarantine(UnmatchedReason.NO_MATCH, _tried(parsed))
    ticket, via = matched
    link = _link_number(parsed, ticket, found)
    if parsed.status is None:
        problems = f" ({', '.join(parsed.problems)})" if parsed.problems else ""
        return Quarantine(
            UnmatchedReason.UNPARSEABLE,
            f"matched {ticket.reference} by {via}, but no status text found{problems}",
            ticket=ticket,
            link_number=link,
        )
    return Announce(ticket=ticket, via=via, link_number=link)
