"""Correlation and the decision for one mail: order, deferral, quarantine reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from helpdesk_contracts.inbox.v1 import UnmatchedReason
from helpdesk_contracts.ticket.v1 import TicketStatus
from helpdesk_inbox.correlate import (
    Announce,
    Decision,
    Defer,
    LinkedTicket,
    Lookups,
    Quarantine,
    decide,
)
from helpdesk_inbox.parse import ParsedMail
from helpdesk_inbox.trust import Trust

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
GRACE = timedelta(hours=1)
A = LinkedTicket("6745a1f2c3d4e5f601234560", "TG-AAAAAA")
B = LinkedTicket("6745a1f2c3d4e5f601234561", "TG-BBBBBB")
TRUSTED = Trust(True, "im@example.com matches im@example.com")


def mail(**fields: object) -> ParsedMail:
    values: dict[str, object] = {
        "subject": "Заявка №12345",
        "text": "Статус: В работе",
        "status": TicketStatus.IN_PROGRESS,
        "raw_status": "В работе",
    }
    values.update(fields)
    return ParsedMail.model_validate(values)


def run(parsed: ParsedMail, found: Lookups, first_seen: datetime | None = None) -> Decision:
    return decide(parsed, found, trust=TRUSTED, first_seen=first_seen, now=NOW, match_grace=GRACE)


def test_the_token_comes_first() -> None:
    parsed = mail(token="TG-AAAAAA", reply_to_ids=("<x@y>",), number="12345")
    decision = run(parsed, Lookups(by_token=A, by_message_id=B, by_number=B))
    # The number is linked to B already: it is not linked to A as well.
    assert decision == Announce(ticket=A, via="token", link_number=None)


def test_a_known_token_links_a_new_number() -> None:
    decision = run(mail(token="TG-AAAAAA", number="12345"), Lookups(by_token=A))
    assert decision == Announce(ticket=A, via="token", link_number="12345")


def test_then_the_reply_message_id_then_the_number() -> None:
    by_reply = run(mail(reply_to_ids=("<x@y>",), number="1"), Lookups(by_message_id=A))
    by_number = run(mail(number="12345"), Lookups(by_number=B))
    assert by_reply == Announce(ticket=A, via="message_id", link_number="1")
    assert by_number == Announce(ticket=B, via="number", link_number="12345")


def test_an_unknown_token_is_not_overruled_by_the_number() -> None:
    decision = run(mail(token="TG-CCCCCC", number="12345"), Lookups(by_number=B))
    assert isinstance(decision, Defer)
    assert "reference TG-CCCCCC unknown" in decision.detail


@pytest.mark.parametrize(
    "hint", [{"token": "TG-CCCCCC"}, {"reply_to_ids": ("<a@b>",)}, {"number": "777"}]
)
def test_mail_that_may_match_later_is_deferred_for_the_grace_period(
    hint: dict[str, object],
) -> None:
    parsed = mail(**hint)
    assert isinstance(run(parsed, Lookups()), Defer)
    assert isinstance(run(parsed, Lookups(), first_seen=NOW - GRACE / 2), Defer)
    late = run(parsed, Lookups(), first_seen=NOW - GRACE)
    assert isinstance(late, Quarantine)
    number_only = "number" in hint
    assert late.reason is (
        UnmatchedReason.UNKNOWN_NUMBER if number_only else UnmatchedReason.NO_MATCH
    )


def test_mail_with_nothing_to_match_is_quarantined_at_once() -> None:
    decision = run(mail(), Lookups())
    assert decision == Quarantine(
        UnmatchedReason.NO_MATCH, "no reference token, no reply headers, no number"
    )


@pytest.mark.parametrize(
    ("parsed", "reason"),
    [
        (mail(token="TG-AAAAAA", headers_only=True, size=900), UnmatchedReason.TOO_LARGE),
        (mail(token="TG-AAAAAA", auto_reply=True), UnmatchedReason.UNPARSEABLE),
        (mail(tokens=("TG-AAAAAA", "TG-BBBBBB")), UnmatchedReason.AMBIGUOUS),
        (mail(subject="", text="", problems=("no-text",)), UnmatchedReason.UNPARSEABLE),
    ],
)
def test_quarantine_reasons(parsed: ParsedMail, reason: UnmatchedReason) -> None:
    decision = run(parsed, Lookups(by_token=A))
    assert isinstance(decision, Quarantine)
    assert decision.reason is reason


def test_a_matched_mail_without_a_status_is_quarantined_but_still_links_its_number() -> None:
    decision = run(
        mail(token="TG-AAAAAA", number="12345", status=None, raw_status=None), Lookups(by_token=A)
    )
    assert decision == Quarantine(
        UnmatchedReason.UNPARSEABLE,
        "matched TG-AAAAAA by token, but no status text found",
        ticket=A,
        link_number="12345",
    )


def test_an_untrusted_sender_never_reaches_a_ticket_even_with_its_token() -> None:
    parsed = mail(token="TG-AAAAAA", number="12345", status=TicketStatus.RESOLVED)
    decision = decide(
        parsed,
        Lookups(by_token=A, by_number=A),
        trust=Trust(False, "eve@example.com is not in INBOX_TRUSTED_SENDERS"),
        first_seen=None,
        now=NOW,
        match_grace=GRACE,
    )
    assert decision == Quarantine(
        UnmatchedReason.UNTRUSTED_SENDER, "eve@example.com is not in INBOX_TRUSTED_SENDERS"
    )


def test_a_number_never_linked_is_quarantined_as_unknown_after_the_grace() -> None:
    parsed = mail(number="12345")
    assert isinstance(run(parsed, Lookups()), Defer)
    decision = run(parsed, Lookups(), first_seen=NOW - GRACE)
    assert isinstance(decision, Quarantine)
    assert decision.reason is UnmatchedReason.UNKNOWN_NUMBER
