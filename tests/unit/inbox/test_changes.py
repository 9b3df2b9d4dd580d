"""Which status changes are real: once per change, per mail, in time order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpdesk_contracts.ticket.v1 import TicketStatus
from helpdesk_inbox.changes import LinkState, Verdict, plan, status_key

T = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def test_status_keys_treat_unknown_statuses_by_their_text() -> None:
    assert status_key(TicketStatus.RESOLVED, "Выполнена") == status_key(TicketStatus.RESOLVED, "x")
    assert status_key(TicketStatus.UNKNOWN, "Передана  Подрядчику") == status_key(
        TicketStatus.UNKNOWN, "передана подрядчику"
    )
    assert status_key(TicketStatus.UNKNOWN, "A") != status_key(TicketStatus.UNKNOWN, "B")


def test_verdicts() -> None:
    state = LinkState(status_key="in_progress", changed_at=T, sources=frozenset({"box/1"}))
    assert plan(LinkState(), key="registered", changed_at=T, source="box/1") is Verdict.ANNOUNCE
    assert plan(state, key="resolved", changed_at=T, source="box/1") is Verdict.SAME_MAIL
    assert plan(state, key="in_progress", changed_at=T, source="box/2") is Verdict.SAME_STATUS
    earlier = T - timedelta(minutes=1)
    assert plan(state, key="registered", changed_at=earlier, source="box/2") is Verdict.STALE
    assert plan(state, key="resolved", changed_at=T, source="box/2") is Verdict.ANNOUNCE
    # Back to an earlier status is a real change when it is newer (reopened, say).
    later = T + timedelta(hours=1)
    assert plan(state, key="waiting", changed_at=later, source="box/3") is Verdict.ANNOUNCE
