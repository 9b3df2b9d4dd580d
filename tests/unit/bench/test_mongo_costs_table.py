"""The benchmark's table of the MongoDB server's CPU by command: per ticket, databases merged,
floor (d) beside the helpdesk, the rest summed."""

from __future__ import annotations

from datetime import UTC, datetime

from bench.report import Report, render


def report() -> Report:
    r = Report(10, "lifted", {}, datetime(2026, 12, 7, tzinfo=UTC), tickets=10)
    r.floor_mailer_tickets = 20
    r.mongo_costs = {
        "insert sandbox_1.gateway_updates": [20.0, 0.5],
        "update sandbox_1.tickets": [30.0, 0.2],
        "find sandbox_1.attachments.files": [10.0, 0.01],
    }
    r.send_mongo_costs = {"update sandbox_1.tickets": [10.0, 0.05]}
    r.floor_mailer_mongo_costs = {"find bench_floor_mailer.attachments.files": [20.0, 0.02]}
    return r


def test_each_command_per_ticket_with_floor_d_beside_it() -> None:
    text = render(report())
    assert "| insert gateway_updates | 50.0 ms (2.0) | — | — |" in text
    assert "| update tickets | 20.0 ms (3.0) | 5.0 ms (1.0) | — |" in text
    assert "| find attachments.files | 1.0 ms (1.0) | — | 1.0 ms (1.0) |" in text
    assert "| **all** | 71.0 ms (6.0) | 5.0 ms (1.0) | 1.0 ms (1.0) |" in text


def test_no_table_without_the_servers_costs() -> None:
    r = report()
    r.mongo_costs = {}
    assert "CPU by command" not in render(r)
