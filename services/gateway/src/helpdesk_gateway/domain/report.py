"""The support manager's figures for a period, computed from the gateway's tickets.

- tickets per category and per ISO week (weeks without tickets included, for charts);
- time from Send to "registered" (first status InfraManager reported) and to "resolved"
  (first resolved, else first closed): count, median and 90th percentile (nearest rank), seconds;
- ratings: distribution 1..5, average overall and per category;
- the most frequent locations (spelling variants merged: case and spaces);
- sends that failed for good, with their references.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from helpdesk_contracts.ticket.v1 import TicketStatus
from helpdesk_gateway.domain.tickets import EmailState, TicketRecord, history_statuses
from pydantic import JsonValue

TOP_LOCATIONS = 10
MAX_FAILED_REFERENCES = 50


def period_bounds(since: date, until: date, tz: tzinfo = UTC) -> tuple[datetime, datetime]:
    """[since 00:00, the day after `until` 00:00) in `tz`, the time zone users see dates in
    (GATEWAY_DISPLAY_TIMEZONE), as UTC instants: `until` is inclusive, and a ticket sent at
    01:30 Moscow time on the 1st counts on the 1st although it is still the 30th in UTC."""
    start = datetime.combine(since, time(), tzinfo=tz)
    end = datetime.combine(until + timedelta(days=1), time(), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def build_report(
    tickets: Iterable[TicketRecord], since: date, until: date, tz: tzinfo = UTC
) -> dict[str, JsonValue]:
    """The figures; days and weeks are those of `tz` (see period_bounds)."""
    rows = sorted(tickets, key=lambda t: t.submitted_at)
    return {
        "period": {"since": since.isoformat(), "until": until.isoformat(), "timezone": str(tz)},
        "tickets": len(rows),
        "by_category": _by_category(rows),
        "by_week": _by_week(rows, since, until, tz),
        "time_to_registered": _durations(_to_registered(rows)),
        "time_to_resolved": _durations(_to_resolved(rows)),
        "ratings": _ratings(rows),
        "top_locations": _top_locations(rows),
        "failed_sends": _failed(rows),
    }


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of sorted or unsorted values (there must be some)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def _durations(seconds: list[float]) -> dict[str, JsonValue]:
    if not seconds:
        return {"count": 0, "median_seconds": None, "p90_seconds": None}
    return {
        "count": len(seconds),
        "median_seconds": round(statistics.median(seconds)),
        "p90_seconds": round(percentile(seconds, 90)),
    }


def _to_registered(rows: list[TicketRecord]) -> list[float]:
    result = []
    for ticket in rows:
        times = sorted(entry.changed_at for entry in ticket.history)
        registered = history_statuses(ticket.history, TicketStatus.REGISTERED) or times
        if registered:
            result.append((registered[0] - ticket.submitted_at).total_seconds())
    return result


def _to_resolved(rows: list[TicketRecord]) -> list[float]:
    result = []
    for ticket in rows:
        done = history_statuses(ticket.history, TicketStatus.RESOLVED) or history_statuses(
            ticket.history, TicketStatus.CLOSED
        )
        if done:
            result.append((done[0] - ticket.submitted_at).total_seconds())
    return result


def _by_category(rows: list[TicketRecord]) -> list[JsonValue]:
    counts: Counter[str] = Counter()
    titles: dict[str, str] = {}
    ratings: defaultdict[str, list[int]] = defaultdict(list)
    for ticket in rows:
        code = ticket.category.code
        counts[code] += 1
        parent = ticket.category.parent_title
        titles[code] = f"{parent} › {ticket.category.title}" if parent else ticket.category.title
        if ticket.rating.value is not None:
            ratings[code].append(ticket.rating.value)
    return [
        {
            "code": code,
            "title": titles[code],
            "tickets": count,
            "rated": len(ratings[code]),
            "rating_average": _average(ratings[code]),
        }
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def _by_week(rows: list[TicketRecord], since: date, until: date, tz: tzinfo) -> list[JsonValue]:
    counts: Counter[str] = Counter(_week(t.submitted_at.astimezone(tz).date()) for t in rows)
    weeks: list[str] = []
    day = since - timedelta(days=since.weekday())
    while day <= until:
        weeks.append(_week(day))
        day += timedelta(days=7)
    return [{"week": week, "tickets": counts.get(week, 0)} for week in weeks]


def _week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _ratings(rows: list[TicketRecord]) -> dict[str, JsonValue]:
    values = [t.rating.value for t in rows if t.rating.value is not None]
    distribution: dict[str, JsonValue] = {str(stars): values.count(stars) for stars in range(1, 6)}
    return {"count": len(values), "average": _average(values), "distribution": distribution}


def _average(values: list[int]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def _top_locations(rows: list[TicketRecord]) -> list[JsonValue]:
    counts: Counter[str] = Counter()
    spelling: dict[str, str] = {}
    for ticket in rows:
        if not ticket.location or not ticket.location.strip():
            continue
        shown = " ".join(ticket.location.split())
        key = shown.casefold()
        counts[key] += 1
        spelling.setdefault(key, shown)
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_LOCATIONS]
    return [{"location": spelling[key], "tickets": count} for key, count in top]


def _failed(rows: list[TicketRecord]) -> dict[str, JsonValue]:
    failed = [t.reference for t in rows if t.email_state == EmailState.FAILED]
    references: list[JsonValue] = list(failed[:MAX_FAILED_REFERENCES])
    return {"count": len(failed), "references": references}
