"""The benchmark's findings and their Markdown form (printed, and written to bench/results.md)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from helpdesk_harness.mongo_costs import Costs

from bench.measure import Summary

RSS_GOAL_MB = 150.0
LATENCY_GOAL = 1.5  # ours p99 <= 1.5 x floor (b) p99
CPU_GOAL = 2.0  # gateway CPU per user action <= 2 x floor (b)'s per update
ROUND_TRIPS_GOAL = 6.0  # gateway MongoDB round trips per user action
MAILER_GOAL = 0.5  # ours Send->email tickets/s >= 50 % of floor (d)

MONGO_SERVER = "MongoDB server"
RABBITMQ_SERVER = "RabbitMQ server"
RELAY = "bench relay"
FLOOR_MAILER = "floor (d) consumer"
SERVERS = (MONGO_SERVER, RABBITMQ_SERVER, RELAY)
FLOOR_NAMES = {"echo": "floor (a) bot", "fsm": "floor (b) bot", "mailer": FLOOR_MAILER}

EMPTY = Summary(0, math.nan, math.nan, math.nan, math.nan)


@dataclass
class Report:
    employees: int
    limits: str
    machine: dict[str, str]
    started: datetime
    mongo: str = ""
    rabbitmq: str = ""
    tickets: int = 0
    emailed: int = 0
    errors: list[str] = field(default_factory=list)
    actions: int = 0
    journey_seconds: float = 0.0
    end_to_end_seconds: float = 0.0
    latency: Summary = EMPTY
    latency_by_action: dict[str, Summary] = field(default_factory=dict)
    send_to_email: Summary = EMPTY
    send_to_email_rate: float = 0.0
    end_to_end_rate: float = 0.0
    rss_mb: dict[str, tuple[float, float]] = field(default_factory=dict)
    """(now, peak) per service, MiB."""
    floor_rss_mb: dict[str, tuple[float, float]] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    """CPU seconds of each service and server from the first action to the last email."""
    send_cpu_seconds: dict[str, float] = field(default_factory=dict)
    """The same from the moment everyone pressed Send to the last email."""
    gateway_mongo_round_trips: int = 0
    gateway_commands: Counter[str] = field(default_factory=Counter)
    """The gateway's MongoDB round trips during the journeys by command and collection."""
    fsm_round_trips: int = 0
    fsm_per_action: float = 0.0
    bot_calls: Counter[str] = field(default_factory=Counter)
    """The gateway's Bot API requests during the journeys by method (getUpdates left out)."""
    floor_bot_calls: dict[str, Counter[str]] = field(default_factory=dict)
    floor_latency: dict[str, Summary] = field(default_factory=dict)
    floor_cpu_seconds: dict[str, float] = field(default_factory=dict)
    floor_fsm_round_trips: int = 0
    floor_updates: int = 0
    floor_smtp_rate: float = 0.0
    floor_mailer_rate: float = 0.0
    floor_mailer_tickets: int = 0
    floor_mailer_cpu: dict[str, float] = field(default_factory=dict)
    mongo_costs: Costs = field(default_factory=dict)
    """The MongoDB server's commands and CPU by command and collection, during the journeys
    (mongoeco only; see helpdesk_harness.mongo_costs)."""
    send_mongo_costs: Costs = field(default_factory=dict)
    floor_mailer_mongo_costs: Costs = field(default_factory=dict)
    sample_email: bytes = b""


def _s(value: float) -> str:
    return "—" if math.isnan(value) else f"{value * 1000:.0f} ms"


def _row(name: str, summary: Summary) -> str:
    return (
        f"| {name} | {summary.count} | {_s(summary.p50)} | {_s(summary.p95)} | "
        f"{_s(summary.p99)} | {_s(summary.max)} |"
    )


def _per(seconds: float, count: int) -> str:
    return "—" if math.isnan(seconds) or not count else f"{seconds / count * 1000:.0f} ms"


def _cpu(seconds: dict[str, float], name: str, count: int) -> str:
    """ "12.3 s (61 ms)": CPU time and per item, or — when not measured."""
    if name not in seconds:
        return "—"
    return f"{seconds[name]:.1f} s ({_per(seconds[name], count)})"


def _per_value(seconds: float, count: int) -> float:
    return seconds / count if count else math.nan


def _ratio(ours: float, floor: float) -> float:
    return ours / floor if floor and not math.isnan(floor) else math.nan


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


MONGO_COST_ROWS = 25


def _by_command(costs: Costs) -> dict[str, tuple[float, float]]:
    """'command collection' (database left out) -> (commands, CPU seconds)."""
    merged: dict[str, tuple[float, float]] = {}
    for key, (count, seconds) in costs.items():
        command, _, namespace = key.partition(" ")
        collection = namespace.partition(".")[2] or namespace
        name = f"{command} {collection}".strip()
        before = merged.get(name, (0.0, 0.0))
        merged[name] = (before[0] + count, before[1] + seconds)
    return merged


def _cost(entry: tuple[float, float] | None, tickets: int) -> str:
    """(commands, CPU seconds) as CPU per ticket with the commands per ticket in brackets."""
    if entry is None or not tickets:
        return "—"
    count, seconds = entry
    return f"{seconds / tickets * 1000:.1f} ms ({count / tickets:.1f})"


def _sum(costs: dict[str, tuple[float, float]], names: list[str]) -> tuple[float, float]:
    picked = [costs[name] for name in names if name in costs]
    return sum(c for c, _ in picked), sum(s for _, s in picked)


def _mongo_costs(report: Report) -> list[str]:
    """The MongoDB server's CPU by command and collection, per ticket: where the Send → email
    gap to floor (d) goes."""
    if not report.mongo_costs:
        return []
    journeys = _by_command(report.mongo_costs)
    send = _by_command(report.send_mongo_costs)
    floor = _by_command(report.floor_mailer_mongo_costs)
    names = sorted(
        set(journeys) | set(send) | set(floor), key=lambda n: -journeys.get(n, (0, 0.0))[1]
    )
    shown = [n for i, n in enumerate(names) if i < MONGO_COST_ROWS or n in floor]
    rest = [n for n in names if n not in shown]
    floor_d = report.floor_mailer_tickets
    return [
        "",
        "## The MongoDB server's CPU by command",
        "",
        "CPU time of the MongoDB server (mongoeco) per ticket, by command and collection "
        "(services and floor (d) alike; the database is left out), with the commands per ticket "
        "in brackets. Measured inside the server around each command, so an estimate where "
        "commands interleave; the server's whole CPU is in the table above.",
        "",
        "| command | journeys | Send → email | floor (d) |",
        "|---|---|---|---|",
        *(
            f"| {name} | {_cost(journeys.get(name), report.tickets)} | "
            f"{_cost(send.get(name), report.tickets)} | {_cost(floor.get(name), floor_d)} |"
            for name in shown
        ),
        f"| the other {len(rest)} | {_cost(_sum(journeys, rest), report.tickets)} | "
        f"{_cost(_sum(send, rest), report.tickets)} | — |",
        f"| **all** | {_cost(_sum(journeys, names), report.tickets)} | "
        f"{_cost(_sum(send, names), report.tickets)} | "
        f"{_cost(_sum(floor, list(floor)), floor_d)} |",
    ]


def render(report: Report) -> str:
    echo = report.floor_latency.get("echo", EMPTY)
    fsm = report.floor_latency.get("fsm", EMPTY)
    p99_ratio = _ratio(report.latency.p99, fsm.p99)
    smtp_ratio = _ratio(report.send_to_email_rate, report.floor_smtp_rate)
    mailer_ratio = _ratio(report.send_to_email_rate, report.floor_mailer_rate)
    worst_rss = max((peak for _, peak in report.rss_mb.values()), default=math.nan)
    round_trips = report.gateway_mongo_round_trips / max(report.actions, 1)
    gateway_cpu = _per_value(report.cpu_seconds.get("gateway", math.nan), report.actions)
    floor_cpu = _per_value(report.floor_cpu_seconds.get("fsm", math.nan), report.floor_updates)
    cpu_ratio = _ratio(gateway_cpu, floor_cpu)
    cpu_rows = [*report.rss_mb, *SERVERS]
    floor_d = report.floor_mailer_tickets
    updates = max(report.floor_updates, 1)
    lines = [
        "# Benchmark results",
        "",
        f"`uv run python -m bench --employees {report.employees} --limits {report.limits}`, "
        f"run {report.started:%Y-%m-%d %H:%M} UTC. Generated by bench/run.py; numbers from one "
        "run on a shared machine, so read them as an order of magnitude.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in report.machine.items()),
        f"| MongoDB server | {report.mongo} |",
        f"| RabbitMQ | {report.rabbitmq} |",
        "",
        "## Run",
        "",
        f"- {report.employees} employees at once, each: sign in (email, code from the SMTP sink) "
        "and file one ticket with one photo — nine actions, each sent as soon as the previous "
        "one was answered (no think time; Send: see below).",
        f"- Tickets filed: {report.tickets}; emailed: {report.emailed}; "
        f"journeys that failed: {len(report.errors)}.",
        f"- Gateway's outgoing Telegram limits: {report.limits}"
        + (
            " (the fake Bot API has no flood control, the floors have no limiter)."
            if report.limits == "lifted"
            else " (1 msg/s per chat, 30 msg/s overall)."
        ),
        f"- FSM storage round trips: {report.fsm_round_trips} by the gateway for "
        f"{report.actions} user actions ({report.fsm_per_action:.2f} per action); floor (b) made "
        f"{report.floor_fsm_round_trips} for {report.floor_updates} updates "
        f"({report.floor_fsm_round_trips / max(report.floor_updates, 1):.2f} per update). "
        f"All MongoDB round trips of the gateway: {report.gateway_mongo_round_trips} "
        f"({report.gateway_mongo_round_trips / max(report.actions, 1):.1f} per user action, "
        "events from the broker included).",
        "- The floors ran after the services were stopped, on the same fake Bot API, MongoDB "
        "server (through the same counting relay as the gateway) and SMTP sink. Their users "
        "make the same nine kinds of action (commands, texts, a photo, button presses), "
        "the last one all at the same moment, like Send here.",
        "",
        "## The bot's answer to each user action",
        "",
        "| | actions | p50 | p95 | p99 | max |",
        "|---|---|---|---|---|---|",
        _row("**helpdesk** (all actions)", report.latency),
        *(_row(f"helpdesk: {name}", s) for name, s in report.latency_by_action.items()),
        _row("floor (a): bare aiogram echo bot", echo),
        _row("floor (b): bare aiogram + PyMongoStorage", fsm),
        "",
        f"Ratio helpdesk / floor (a), p50 {_ratio(report.latency.p50, echo.p50):.2f}, "
        f"p99 {_ratio(report.latency.p99, echo.p99):.2f}; "
        f"helpdesk / floor (b), p50 {_ratio(report.latency.p50, fsm.p50):.2f}, "
        f"p99 {p99_ratio:.2f}.",
        "",
        "## Tickets: Send to the email at the SMTP sink",
        "",
        "| | tickets | p50 | p95 | p99 | max |",
        "|---|---|---|---|---|---|",
        _row("Send → email at the sink", report.send_to_email),
        "",
        f"- Send → email throughput: {report.send_to_email_rate:.2f} tickets/s. All employees "
        "press Send at the same moment (each waits at the preview until everyone is there), so "
        "this is the pipeline's capacity from Send to SMTP, not the rate they happened to "
        "arrive at; Send → email times count from that moment.",
        f"- Floor (c), the same email sent {report.employees} times with raw aiosmtplib over one "
        f"connection: {report.floor_smtp_rate:.1f} emails/s. Send → email / floor (c): "
        f"{smtp_ratio * 100:.1f} %.",
        f"- Floor (d), a bare FastStream consumer doing the mailer's minimum per ticket (read "
        "the photo from GridFS, one claim write, one SMTP send of the same email, one final "
        "write, one persistent event; as many at once as the mailer takes) for "
        f"{report.floor_mailer_tickets} tickets published at once, on the same RabbitMQ, MongoDB "
        f"server and SMTP sink: {report.floor_mailer_rate:.1f} tickets/s. Send → email / "
        f"floor (d): {mailer_ratio * 100:.1f} %.",
        f"- End to end (first /start to last ticket email): {report.end_to_end_rate:.2f} "
        f"tickets/s, {report.end_to_end_seconds:.0f} s for {report.emailed} tickets.",
        "",
        "## The gateway's MongoDB round trips",
        "",
        "By command and collection, during the journeys (events from the broker included; "
        "`getMore`, `hello` and the like name no collection).",
        "",
        "| command | round trips | per user action |",
        "|---|---|---|",
        *(
            f"| {command} | {count} | {count / max(report.actions, 1):.2f} |"
            for command, count in report.gateway_commands.most_common()
        ),
        "",
        "## Bot API requests",
        "",
        "By method, per user action (getUpdates left out); the gateway's include the "
        "notifications that events caused (code sent, signed in, ticket registered).",
        "",
        "| method | helpdesk | floor (a) | floor (b) |",
        "|---|---|---|---|",
        *(
            f"| {method} | {report.bot_calls[method] / max(report.actions, 1):.2f} | "
            + " | ".join(
                f"{report.floor_bot_calls.get(name, Counter())[method] / updates:.2f}"
                for name in ("echo", "fsm")
            )
            + " |"
            for method in sorted(
                set(report.bot_calls).union(*report.floor_bot_calls.values()),
                key=lambda m: -report.bot_calls[m],
            )
        ),
        f"| **all** | {report.bot_calls.total() / max(report.actions, 1):.2f} | "
        + " | ".join(
            f"{report.floor_bot_calls.get(name, Counter()).total() / updates:.2f}"
            for name in ("echo", "fsm")
        )
        + " |",
        "",
        "## Services",
        "",
        "| process | peak RSS | RSS at the end | CPU time during the journeys |",
        "|---|---|---|---|",
        *(
            f"| {name} | {peak:.0f} MiB | {now:.0f} MiB | {report.cpu_seconds.get(name, 0):.1f} s |"
            for name, (now, peak) in report.rss_mb.items()
        ),
        *(
            f"| {FLOOR_NAMES.get(name, name)} | {peak:.0f} MiB | {now:.0f} MiB | "
            f"{report.floor_cpu_seconds.get(name, 0):.1f} s (its own run) |"
            for name, (now, peak) in report.floor_rss_mb.items()
        ),
        "",
        "## CPU per ticket",
        "",
        "CPU time of each process, and per ticket: during the journeys (first action to last "
        "email), during Send → email (everyone pressing Send to the last email), and during "
        "floor (d) (its first publish to its last event). The RabbitMQ server is the machine's "
        "node (beam.smp), shared with anything else using the broker meanwhile; the bench "
        "relay is the benchmark's own MongoDB relay in front of the gateway.",
        "",
        "| process | journeys | Send → email | floor (d) |",
        "|---|---|---|---|",
        *(
            f"| {name} | {_cpu(report.cpu_seconds, name, report.tickets)} | "
            f"{_cpu(report.send_cpu_seconds, name, report.tickets)} | "
            f"{_cpu(report.floor_mailer_cpu, name, floor_d)} |"
            for name in cpu_rows
        ),
        f"| {FLOOR_MAILER} | — | — | {_cpu(report.floor_mailer_cpu, FLOOR_MAILER, floor_d)} |",
        "",
        "CPU per user action: gateway "
        f"{_per(report.cpu_seconds.get('gateway', math.nan), report.actions)}, floor (a) "
        f"{_per(report.floor_cpu_seconds.get('echo', math.nan), report.floor_updates)}, floor (b) "
        f"{_per(report.floor_cpu_seconds.get('fsm', math.nan), report.floor_updates)} (peak RSS "
        "includes start-up; CPU is counted from the first action to the last email).",
        *_mongo_costs(report),
        "",
        "## Goals (reported, never asserted)",
        "",
        "| goal | measured | met |",
        "|---|---|---|",
        f"| gateway's MongoDB round trips per user action ≤ 6 | {round_trips:.2f} | "
        f"{_met(round_trips <= ROUND_TRIPS_GOAL)} |",
        f"| gateway CPU per user action ≤ 2 × floor (b) | {cpu_ratio:.2f} × | "
        f"{_met(cpu_ratio <= CPU_GOAL)} |",
        f"| bot answer p99 ≤ 1.5 × floor (b) | {p99_ratio:.2f} × | "
        f"{_met(p99_ratio <= LATENCY_GOAL)} |",
        f"| Send → email ≥ 50 % of floor (d), tickets/s | {mailer_ratio * 100:.1f} % | "
        f"{_met(mailer_ratio >= MAILER_GOAL)} |",
        f"| every service < 150 MB RSS | largest {worst_rss:.0f} MiB | "
        f"{_met(worst_rss < RSS_GOAL_MB)} |",
    ]
    if report.errors:
        lines += ["", "## Journeys that failed", "", *(f"- {e}" for e in report.errors[:20])]
    return "\n".join(lines) + "\n"
