"""The manager's report as Markdown, CSV and HTML, from figures computed by hand.

The figures themselves come from the gateway (its tests check them on seeded tickets); here the
question is whether every figure reaches the reader, correctly laid out and escaped.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from helpdesk_admin.report import (
    CSV_HEADER,
    Report,
    human_duration,
    render_csv,
    render_html,
    render_markdown,
)
from helpdesk_contracts.ticket.v1 import Category, Requester, TicketStatus
from helpdesk_gateway.domain.report import build_report
from helpdesk_gateway.domain.tickets import EmailState, Rating, StatusEntry, TicketRecord

# Five tickets over ISO weeks 45 and 46 of 2026. Hand-computed: registration after 5, 10, 10 and
# 90 minutes -> median 600 s, p90 (nearest rank) 5400 s; resolution after 25 h, 25 h and
# 200000 s -> median 90000 s ("1 d 1 h"), p90 200000 s ("2 d 7 h"); ratings 2, 4, 5.
FIGURES: dict[str, Any] = {
    "period": {"since": "2026-11-02", "until": "2026-11-15", "timezone": "Europe/Moscow"},
    "tickets": 5,
    "by_category": [
        {
            "code": "printers.not_printing",
            "title": "Принтеры › Не печатает",
            "tickets": 3,
            "rated": 2,
            "rating_average": 4.5,
        },
        {
            "code": "net.wifi",
            "title": "<script>alert(1)</script> Wi-Fi",
            "tickets": 2,
            "rated": 1,
            "rating_average": 2.0,
        },
    ],
    "by_week": [{"week": "2026-W45", "tickets": 3}, {"week": "2026-W46", "tickets": 2}],
    "time_to_registered": {"count": 4, "median_seconds": 600, "p90_seconds": 5400},
    "time_to_resolved": {"count": 3, "median_seconds": 90000, "p90_seconds": 200000},
    "ratings": {
        "count": 3,
        "average": 3.67,
        "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1},
    },
    "top_locations": [
        {"location": "каб. 305", "tickets": 3},
        {"location": "Склад | ворота 2", "tickets": 1},
    ],
    "failed_sends": {"count": 1, "references": ["TG-ABC123"]},
}


@pytest.fixture
def report() -> Report:
    return Report.model_validate(FIGURES)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, "—"),
        (40, "40 s"),
        (600, "10 min"),
        (5400, "1 h 30 min"),
        (3900, "1 h 05 min"),
        (90000, "1 d 1 h"),
        (200000, "2 d 7 h"),
    ],
)
def test_durations_read_like_a_person_would_say_them(seconds: float | None, shown: str) -> None:
    assert human_duration(seconds) == shown


def test_markdown_has_every_figure_in_its_table(report: Report) -> None:
    text = render_markdown(report)
    assert text.startswith("# Helpdesk report 2026-11-02 – 2026-11-15 (Europe/Moscow)\n")
    assert "Tickets submitted: **5**" in text
    assert "| Принтеры › Не печатает | printers.not_printing | 3 | 2 | 4.50 |" in text
    assert "| <script>alert(1)</script> Wi-Fi | net.wifi | 2 | 1 | 2.00 |" in text
    assert "| 2026-W45 | 3 |\n| 2026-W46 | 2 |" in text
    assert "| registration | 4 | 10 min | 1 h 30 min |" in text
    assert "| resolution | 3 | 1 d 1 h | 2 d 7 h |" in text
    assert "3 rated, average 3.67" in text
    assert "| 5 | 1 |\n| 4 | 1 |\n| 3 | 0 |\n| 2 | 1 |\n| 1 | 0 |" in text
    # A pipe inside a value must not open a new column.
    assert "| Склад \\| ворота 2 | 1 |" in text
    assert "1 failed\n\n- TG-ABC123\n" in text


def test_csv_is_one_figure_per_row(report: Report) -> None:
    rows = list(csv.reader(io.StringIO(render_csv(report))))
    assert tuple(rows[0]) == CSV_HEADER
    body = {tuple(row) for row in rows[1:]}
    expected = {
        ("period", "", "", "since", "2026-11-02"),
        ("period", "", "", "until", "2026-11-15"),
        ("period", "", "", "timezone", "Europe/Moscow"),
        ("summary", "", "", "tickets", "5"),
        ("category", "printers.not_printing", "Принтеры › Не печатает", "tickets", "3"),
        ("category", "printers.not_printing", "Принтеры › Не печатает", "rated", "2"),
        ("category", "printers.not_printing", "Принтеры › Не печатает", "rating_average", "4.5"),
        ("category", "net.wifi", "<script>alert(1)</script> Wi-Fi", "tickets", "2"),
        ("category", "net.wifi", "<script>alert(1)</script> Wi-Fi", "rated", "1"),
        ("category", "net.wifi", "<script>alert(1)</script> Wi-Fi", "rating_average", "2"),
        ("week", "2026-W45", "", "tickets", "3"),
        ("week", "2026-W46", "", "tickets", "2"),
        ("time_to_registered", "", "", "count", "4"),
        ("time_to_registered", "", "", "median_seconds", "600"),
        ("time_to_registered", "", "", "p90_seconds", "5400"),
        ("time_to_resolved", "", "", "count", "3"),
        ("time_to_resolved", "", "", "median_seconds", "90000"),
        ("time_to_resolved", "", "", "p90_seconds", "200000"),
        ("ratings", "", "", "count", "3"),
        ("ratings", "", "", "average", "3.67"),
        ("ratings", "5", "", "tickets", "1"),
        ("ratings", "4", "", "tickets", "1"),
        ("ratings", "3", "", "tickets", "0"),
        ("ratings", "2", "", "tickets", "1"),
        ("ratings", "1", "", "tickets", "0"),
        ("location", "1", "каб. 305", "tickets", "3"),
        ("location", "2", "Склад | ворота 2", "tickets", "1"),
        ("failed_sends", "", "", "count", "1"),
        ("failed_sends", "TG-ABC123", "", "reference", "TG-ABC123"),
    }
    assert body == expected
    assert len(rows) == len(expected) + 1  # no duplicate rows hiding in the set


class _Svg(HTMLParser):
    """Collects the bars of every chart and anything that would load from elsewhere."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[dict[str, Any]] = []
        self.external: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "svg":
            self.charts.append({"label": values.get("aria-label"), "bars": []})
        if tag == "rect" and values.get("class") == "bar":
            self.charts[-1]["bars"].append(
                (
                    int(values["data-value"] or 0),
                    float(values.get("width") or 0),
                    float(values.get("height") or 0),
                )
            )
        if tag == "script":
            self.scripts += 1
        for name in ("src", "href"):
            if values.get(name):
                self.external.append(f"{tag} {name}={values[name]}")
        if tag == "link":
            self.external.append("link")


def test_html_is_self_contained_with_proportional_bar_charts(report: Report) -> None:
    page = render_html(report)
    parser = _Svg()
    parser.feed(page)
    assert parser.scripts == 0  # the category titled <script> is text, not markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Wi-Fi" in page
    assert parser.external == []
    charts = {chart["label"]: chart["bars"] for chart in parser.charts}
    assert set(charts) == {
        "Tickets per category",
        "Tickets per week",
        "Rating distribution",
        "Top locations",
    }
    # Horizontal bars: the longest is the largest value, the others proportional to it.
    categories = charts["Tickets per category"]
    assert [value for value, _, _ in categories] == [3, 2]
    longest = categories[0][1]
    assert categories[1][1] == pytest.approx(longest * 2 / 3, abs=0.1)
    assert [value for value, _, _ in charts["Rating distribution"]] == [1, 1, 0, 1, 0]
    assert [width for _, width, _ in charts["Rating distribution"]][2] == 0
    # Columns for weeks: heights proportional.
    weeks = charts["Tickets per week"]
    assert [value for value, _, _ in weeks] == [3, 2]
    assert weeks[1][2] == pytest.approx(weeks[0][2] * 2 / 3, abs=0.1)
    # The headline figures a manager reads first.
    kpis = re.findall(r'<div class="kpi">([^<]+)<b>([^<]+)</b>', page)
    assert kpis == [
        ("Tickets", "5"),
        ("Median to registration", "10 min"),
        ("Median to resolution", "1 d 1 h"),
        ("Average rating", "3.67"),
        ("Failed to send", "1"),
    ]


def test_an_empty_period_renders_without_charts_or_errors() -> None:
    empty = Report.model_validate(
        {"period": {"since": "2026-11-02", "until": "2026-11-02"}, "tickets": 0}
    )
    assert "Tickets submitted: **0**" in render_markdown(empty)
    assert "Tickets per category: no data" in render_html(empty)
    assert ("summary", "", "", "tickets", "0") in {
        tuple(row) for row in csv.reader(io.StringIO(render_csv(empty)))
    }


def test_the_renderer_reads_what_the_gateway_builds() -> None:
    """The gateway's BuildReport result parses into the renderer's model, figure for figure."""
    submitted = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    ticket = TicketRecord(
        id="6745a1f2c3d4e5f601234560",
        reference="TG-7F3A2C",
        draft_id="d1",
        user_id=5,
        chat_id=5,
        requester=Requester(
            telegram_user_id=5, email="maria.ivanova@example.com", display_name="Мария"
        ),
        category=Category(code="printers.jam", title="Замятие", parent_title="Принтеры"),
        description="Замялась бумага",
        location="каб. 305",
        submitted_at=submitted,
        email_state=EmailState.SENT,
        history=[
            StatusEntry(
                status=TicketStatus.REGISTERED,
                changed_at=submitted + timedelta(minutes=10),
                message_id="m1",
            ),
            StatusEntry(
                status=TicketStatus.RESOLVED,
                changed_at=submitted + timedelta(hours=2),
                message_id="m2",
            ),
        ],
        rating=Rating(value=5),
    )
    figures = build_report([ticket], date(2026, 11, 2), date(2026, 11, 8))
    report = Report.model_validate(figures)
    assert report.tickets == 1
    assert report.by_category[0].title == "Принтеры › Замятие"
    assert report.by_category[0].rating_average == 5
    assert report.time_to_registered.median_seconds == 600
    assert report.time_to_resolved.median_seconds == 7200
    assert report.ratings.distribution["5"] == 1
    assert report.top_locations[0].location == "каб. 305"
    assert "| registration | 1 | 10 min | 10 min |" in render_markdown(report)
