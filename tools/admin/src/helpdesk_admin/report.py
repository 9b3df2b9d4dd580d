"""The support manager's report: the gateway's figures rendered as Markdown, CSV or HTML.

The gateway owns the data and computes every figure (BuildReport is answered with them in
AdminCommandCompleted.result); this module only checks their shape and lays them out. The HTML is
one self-contained file: inline CSS and SVG bar charts, no script, nothing fetched.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class _Figures(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Period(_Figures):
    since: date
    until: date
    timezone: str = "UTC"
    """Days are cut in this zone (the gateway's GATEWAY_DISPLAY_TIMEZONE)."""


class CategoryFigures(_Figures):
    code: str
    title: str
    tickets: int
    rated: int = 0
    rating_average: float | None = None


class WeekFigures(_Figures):
    week: str
    tickets: int


class Durations(_Figures):
    count: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None


class Ratings(_Figures):
    count: int = 0
    average: float | None = None
    distribution: dict[str, int] = Field(default_factory=dict)

    def stars(self) -> list[tuple[str, int]]:
        """(stars, count) from 5 down to 1, zeros included."""
        return [(str(n), self.distribution.get(str(n), 0)) for n in range(5, 0, -1)]


class LocationFigures(_Figures):
    location: str
    tickets: int


class FailedSends(_Figures):
    count: int = 0
    references: list[str] = Field(default_factory=list)


class Report(_Figures):
    """The shape of BuildReport's result (helpdesk_gateway.domain.report.build_report)."""

    period: Period
    tickets: int
    by_category: list[CategoryFigures] = Field(default_factory=list)
    by_week: list[WeekFigures] = Field(default_factory=list)
    time_to_registered: Durations = Field(default_factory=Durations)
    time_to_resolved: Durations = Field(default_factory=Durations)
    ratings: Ratings = Field(default_factory=Ratings)
    top_locations: list[LocationFigures] = Field(default_factory=list)
    failed_sends: FailedSends = Field(default_factory=FailedSends)


def human_duration(seconds: float | None) -> str:
    """`1 d 2 h`, `3 h 05 min`, `12 min`, `40 s`; an em dash when there is no figure."""
    if seconds is None:
        return "—"
    total = round(seconds)
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def _rating(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


# -- Markdown -------------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md_table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(_md_cell(str(cell)) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def render_markdown(report: Report) -> str:
    period = _period(report.period)
    lines = [f"# Helpdesk report {period}", "", f"Tickets submitted: **{report.tickets}**", ""]
    lines += ["## Tickets per category", ""]
    lines += _md_table(
        ["Category", "Code", "Tickets", "Rated", "Average rating"],
        [
            (c.title, c.code, c.tickets, c.rated, _rating(c.rating_average))
            for c in report.by_category
        ],
    )
    lines += ["## Tickets per week", ""]
    lines += _md_table(["Week", "Tickets"], [(w.week, w.tickets) for w in report.by_week])
    lines += ["## Time from Send", ""]
    lines += _md_table(
        ["To", "Tickets", "Median", "90th percentile"],
        [
            (name, d.count, human_duration(d.median_seconds), human_duration(d.p90_seconds))
            for name, d in (
                ("registration", report.time_to_registered),
                ("resolution", report.time_to_resolved),
            )
        ],
    )
    lines += [
        "## Ratings",
        "",
        f"{report.ratings.count} rated, average {_rating(report.ratings.average)}",
        "",
    ]
    lines += _md_table(["Stars", "Tickets"], report.ratings.stars())
    lines += ["## Top locations", ""]
    lines += _md_table(
        ["Location", "Tickets"], [(loc.location, loc.tickets) for loc in report.top_locations]
    )
    lines += ["## Tickets that failed to send", "", f"{report.failed_sends.count} failed", ""]
    lines += [f"- {reference}" for reference in report.failed_sends.references]
    return "\n".join(lines).rstrip("\n") + "\n"


# -- CSV --------------------------------------------------------------------------------------


CSV_HEADER = ("section", "item", "label", "metric", "value")
"""Long format: one figure per row, easy to filter and pivot in a spreadsheet."""


def csv_rows(report: Report) -> list[tuple[str, str, str, str, str]]:
    def num(value: float | None) -> str:
        return "" if value is None else f"{value:g}"

    rows = [
        ("period", "", "", "since", report.period.since.isoformat()),
        ("period", "", "", "until", report.period.until.isoformat()),
        ("period", "", "", "timezone", report.period.timezone),
        ("summary", "", "", "tickets", str(report.tickets)),
    ]
    for c in report.by_category:
        rows += [
            ("category", c.code, c.title, "tickets", str(c.tickets)),
            ("category", c.code, c.title, "rated", str(c.rated)),
            ("category", c.code, c.title, "rating_average", num(c.rating_average)),
        ]
    rows += [("week", w.week, "", "tickets", str(w.tickets)) for w in report.by_week]
    for section, d in (
        ("time_to_registered", report.time_to_registered),
        ("time_to_resolved", report.time_to_resolved),
    ):
        rows += [
            (section, "", "", "count", str(d.count)),
            (section, "", "", "median_seconds", num(d.median_seconds)),
            (section, "", "", "p90_seconds", num(d.p90_seconds)),
        ]
    rows += [
        ("ratings", "", "", "count", str(report.ratings.count)),
        ("ratings", "", "", "average", num(report.ratings.average)),
    ]
    rows += [("ratings", stars, "", "tickets", str(n)) for stars, n in report.ratings.stars()]
    rows += [
        ("location", str(rank), loc.location, "tickets", str(loc.tickets))
        for rank, loc in enumerate(report.top_locations, start=1)
    ]
    rows.append(("failed_sends", "", "", "count", str(report.failed_sends.count)))
    rows += [("failed_sends", ref, "", "reference", ref) for ref in report.failed_sends.references]
    return rows


def render_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(csv_rows(report))
    return buffer.getvalue()


# -- HTML -------------------------------------------------------------------------------------

_BAR_HEIGHT = 22
_LABEL_WIDTH = 260
_CHART_WIDTH = 720


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def hbar_chart(title: str, bars: Sequence[tuple[str, int]]) -> str:
    """A horizontal bar chart as inline SVG; bar length proportional to the value."""
    if not bars:
        return f'<p class="empty">{_e(title)}: no data</p>'
    top = max(value for _, value in bars) or 1
    span = _CHART_WIDTH - _LABEL_WIDTH - 60
    height = _BAR_HEIGHT * len(bars) + 8
    parts = [
        f'<svg class="chart" role="img" aria-label="{_e(title)}" width="{_CHART_WIDTH}" '
        f'height="{height}" viewBox="0 0 {_CHART_WIDTH} {height}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{_e(title)}</title>",
    ]
    for index, (label, value) in enumerate(bars):
        y = 4 + index * _BAR_HEIGHT
        width = round(span * value / top, 1)
        shown = label if len(label) <= 40 else label[:39] + "…"
        parts += [
            f'<text x="{_LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end">{_e(shown)}</text>',
            f'<rect class="bar" x="{_LABEL_WIDTH}" y="{y + 3}" width="{width}" '
            f'height="{_BAR_HEIGHT - 6}" data-value="{value}"><title>{_e(label)}: {value}'
            "</title></rect>",
            f'<text x="{_LABEL_WIDTH + width + 6}" y="{y + 15}">{value}</text>',
        ]
    parts.append("</svg>")
    return "".join(parts)


def vbar_chart(title: str, bars: Sequence[tuple[str, int]]) -> str:
    """A column chart (weeks left to right) as inline SVG."""
    if not bars:
        return f'<p class="empty">{_e(title)}: no data</p>'
    top = max(value for _, value in bars) or 1
    plot = 160
    column = max(18, min(60, (_CHART_WIDTH - 40) // len(bars)))
    width = 40 + column * len(bars)
    height = plot + 50
    parts = [
        f'<svg class="chart" role="img" aria-label="{_e(title)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{_e(title)}</title>",
        f'<line x1="30" y1="{plot + 10}" x2="{width}" y2="{plot + 10}" class="axis"/>',
    ]
    for index, (label, value) in enumerate(bars):
        bar = round(plot * value / top, 1)
        x = 34 + index * column
        parts += [
            f'<rect class="bar" x="{x}" y="{plot + 10 - bar}" width="{column - 8}" '
            f'height="{bar}" data-value="{value}"><title>{_e(label)}: {value}</title></rect>',
            f'<text x="{x + (column - 8) / 2}" y="{plot + 4 - bar}" '
            f'text-anchor="middle">{value}</text>',
            f'<text x="{x + (column - 8) / 2}" y="{plot + 26}" text-anchor="middle" '
            f'class="small">{_e(label.split("-")[-1])}</text>',
        ]
    parts.append("</svg>")
    return "".join(parts)


def _html_table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    header = "".join(f"<th>{_e(cell)}</th>" for cell in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:60rem;color:#1f2933;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d9e2ec}
.kpis{display:flex;gap:1rem;flex-wrap:wrap}.kpi{background:#f0f4f8;border-radius:8px;
padding:.8rem 1.2rem;min-width:9rem}.kpi b{display:block;font-size:1.5rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #d9e2ec;
padding:.3rem .6rem;text-align:left}th{background:#f0f4f8}
svg.chart text{font-size:12px;fill:#1f2933}svg.chart .small{font-size:10px}
svg.chart .bar{fill:#2680c2}svg.chart .axis{stroke:#9fb3c8}.empty{color:#829ab1}
"""


def render_html(report: Report) -> str:
    period = _period(report.period)
    kpis = [
        ("Tickets", str(report.tickets)),
        ("Median to registration", human_duration(report.time_to_registered.median_seconds)),
        ("Median to resolution", human_duration(report.time_to_resolved.median_seconds)),
        ("Average rating", _rating(report.ratings.average)),
        ("Failed to send", str(report.failed_sends.count)),
    ]
    sections = [
        f"<h1>Helpdesk report {_e(period)}</h1>",
        '<div class="kpis">'
        + "".join(f'<div class="kpi">{_e(name)}<b>{_e(value)}</b></div>' for name, value in kpis)
        + "</div>",
        "<h2>Tickets per category</h2>",
        hbar_chart("Tickets per category", [(c.title, c.tickets) for c in report.by_category]),
        _html_table(
            ["Category", "Code", "Tickets", "Rated", "Average rating"],
            [
                (c.title, c.code, c.tickets, c.rated, _rating(c.rating_average))
                for c in report.by_category
            ],
        ),
        "<h2>Tickets per week</h2>",
        vbar_chart("Tickets per week", [(w.week, w.tickets) for w in report.by_week]),
        "<h2>Time from Send</h2>",
        _html_table(
            ["To", "Tickets", "Median", "90th percentile"],
            [
                (name, d.count, human_duration(d.median_seconds), human_duration(d.p90_seconds))
                for name, d in (
                    ("registration", report.time_to_registered),
                    ("resolution", report.time_to_resolved),
                )
            ],
        ),
        "<h2>Ratings</h2>",
        f"<p>{report.ratings.count} rated, average {_e(_rating(report.ratings.average))}</p>",
        hbar_chart("Rating distribution", [(f"{s} ★", n) for s, n in report.ratings.stars()]),
        "<h2>Top locations</h2>",
        hbar_chart("Top locations", [(loc.location, loc.tickets) for loc in report.top_locations]),
        "<h2>Tickets that failed to send</h2>",
        f"<p>{report.failed_sends.count} failed</p>",
        "<ul>" + "".join(f"<li>{_e(ref)}</li>" for ref in report.failed_sends.references) + "</ul>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Helpdesk report {_e(period)}</title><style>{_STYLE}</style></head>"
        "<body>" + "\n".join(sections) + "</body></html>\n"
    )


RENDERERS = {"md": render_markdown, "csv": render_csv, "html": render_html}


def _period(period: Period) -> str:
    return f"{period.since.isoformat()} – {period.until.isoformat()} ({period.timezone})"
