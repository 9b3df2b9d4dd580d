"""The support manager's figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from helpdesk_contracts.ticket.v1 import Category, TicketStatus
from helpdesk_gateway.domain.report import build_report, percentile, period_bounds
from helpdesk_gateway.domain.tickets import EmailState, Rating, TicketRecord

from tests.unit.gateway.factories import T0, entry, ticket

NETWORK = Category(code="network", title="Сеть")


def sample() -> list[TicketRecord]:
    return [
        ticket(
            reference="TG-000001",
            history=[entry(TicketStatus.REGISTERED, 10), entry(TicketStatus.RESOLVED, 120)],
            rating=Rating(value=5),
            location="каб. 305",
        ),
        ticket(
            reference="TG-000002",
            history=[entry(TicketStatus.IN_PROGRESS, 20), entry(TicketStatus.CLOSED, 60)],
            rating=Rating(value=3),
            location="Каб.  305 ",
        ),
        ticket(
            reference="TG-000003",
            category=NETWORK,
            submitted_at=T0 + timedelta(days=8),
            history=[entry(TicketStatus.REGISTERED, 8 * 24 * 60 + 30)],
            location="2 этаж",
        ),
        ticket(
            reference="TG-000004", category=NETWORK, email_state=EmailState.FAILED, location=None
        ),
    ]


def test_the_figures_of_a_period() -> None:
    report = build_report(sample(), date(2026, 11, 23), date(2026, 12, 6))
    assert report["tickets"] == 4
    assert report["by_category"] == [
        {"code": "network", "title": "Сеть", "tickets": 2, "rated": 0, "rating_average": None},
        {
            "code": "printers.jam",
            "title": "Принтеры › Замятие бумаги",
            "tickets": 2,
            "rated": 2,
            "rating_average": 4.0,
        },
    ]
    assert report["by_week"] == [
        {"week": "2026-W48", "tickets": 3},
        {"week": "2026-W49", "tickets": 1},
    ]
    # Registered: 10 min, 20 min (first status of any kind), 30 min.
    assert report["time_to_registered"] == {"count": 3, "median_seconds": 1200, "p90_seconds": 1800}
    # Resolved: 120 min; closed counts when there was no resolved: 60 min.
    assert report["time_to_resolved"] == {"count": 2, "median_seconds": 5400, "p90_seconds": 7200}
    assert report["ratings"] == {
        "count": 2,
        "average": 4.0,
        "distribution": {"1": 0, "2": 0, "3": 1, "4": 0, "5": 1},
    }
    assert report["top_locations"] == [
        {"location": "каб. 305", "tickets": 2},
        {"location": "2 этаж", "tickets": 1},
    ]
    assert report["failed_sends"] == {"count": 1, "references": ["TG-000004"]}


def test_an_empty_period_has_zero_weeks_not_missing_ones() -> None:
    report = build_report([], date(2026, 11, 1), date(2026, 11, 30))
    assert report["tickets"] == 0
    weeks = report["by_week"]
    assert isinstance(weeks, list)
    assert [w["week"] for w in weeks if isinstance(w, dict)] == [
        "2026-W44",
        "2026-W45",
        "2026-W46",
        "2026-W47",
        "2026-W48",
        "2026-W49",
    ]
    assert report["time_to_resolved"] == {"count": 0, "median_seconds": None, "p90_seconds": None}


def test_nearest_rank_percentile() -> None:
    assert percentile([5, 1, 4, 2, 3], 90) == 5
    assert percentile(list(range(1, 11)), 90) == 9
    assert percentile([7], 90) == 7


def test_until_is_inclusive() -> None:
    start, end = period_bounds(date(2026, 11, 1), date(2026, 11, 30))
    assert (end - start).days == 30


def test_days_are_cut_in_the_display_time_zone() -> None:
    """Users see Moscow time: a ticket sent at 01:30 on Monday 7 December in Moscow (22:30 UTC
    on Sunday 6 December) belongs to that Monday's period and week, not to the week before."""
    moscow = ZoneInfo("Europe/Moscow")
    start, end = period_bounds(date(2026, 12, 7), date(2026, 12, 13), moscow)
    assert start == datetime(2026, 12, 6, 21, 0, tzinfo=UTC)
    assert end == datetime(2026, 12, 13, 21, 0, tzinfo=UTC)
    late = ticket(submitted_at=datetime(2026, 12, 6, 22, 30, tzinfo=UTC))
    assert start <= late.submitted_at < end
    report = build_report([late], date(2026, 12, 7), date(2026, 12, 13), moscow)
    assert report["period"] == {
        "since": "2026-12-07",
        "until": "2026-12-13",
        "timezone": "Europe/Moscow",
    }
    assert report["by_week"] == [{"week": "2026-W50", "tickets": 1}]
    in_utc = build_report([late], date(2026, 11, 30), date(2026, 12, 6))
    assert in_utc["by_week"] == [{"week": "2026-W49", "tickets": 1}]
