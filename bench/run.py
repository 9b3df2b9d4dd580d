"""The benchmark run: the whole helpdesk under N employees at once, then the floors, then a report.

1. The sandbox (helpdesk_sandbox.stack) starts the five services, the stand-ins and the
   InfraManager simulator; MongoDB is a private mongoeco process (memory engine) unless
   `--mongo-url`/MONGO_URL names a server. The gateway reaches MongoDB through a counting relay
   (bench/relay.py) so the run knows how many FSM round trips it made.
2. N employees (each their own directory entry and Telegram user) sign in and file a ticket with
   one photo, all at once: every user action is timed to the bot's first answer, every ticket
   from Send to its email at the SMTP sink. Then peak RSS and CPU time of each service are read.
3. The services are stopped, and the floors run on the same fake Bot API, MongoDB server and
   SMTP sink: (a) a bare aiogram echo bot, (b) a bare aiogram bot with PyMongoStorage making the
   same number of FSM round trips per update, each against N users doing the same nine kinds of
   action; (c) the same ticket email sent N times with raw aiosmtplib.
4. The ratios are printed and `bench/results.md` is written.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiosmtplib
from faststream.rabbit import RabbitBroker
from gridfs import AsyncGridFSBucket
from helpdesk_harness.employees.chats import ChatWatcher, WideClient
from helpdesk_harness.employees.mail import SpoolIndex
from helpdesk_harness.employees.people import BotTexts, Employee
from helpdesk_harness.employees.photos import small_photo
from helpdesk_harness.fake_telegram import User
from helpdesk_harness.ldap_server import Employee as DirectoryEntry
from helpdesk_harness.mongo import MongoEcoServer
from helpdesk_harness.mongo_costs import Costs, costs_between, read_costs
from helpdesk_harness.procs import ServerProcess
from helpdesk_sandbox.stack import BOT_ADDRESS, Sandbox, SandboxConfig
from pymongo import AsyncMongoClient

from bench.floormailer import BUCKET as FLOOR_BUCKET
from bench.floormailer import DATABASE as FLOOR_MAILER_DB
from bench.floormailer import EMAILED, TICKETS, FloorEmailed, FloorTicket
from bench.journeys import FLOOR_SCRIPT, Gate, Journey, floor_user, helpdesk_journey
from bench.measure import (
    CpuReading,
    Summary,
    cpu_between,
    cpu_of,
    cpu_seconds,
    machine,
    pids_named,
    rss_mb,
)
from bench.report import FLOOR_MAILER, MONGO_SERVER, RABBITMQ_SERVER, RELAY, Report, render

RESULTS = Path(__file__).with_name("results.md")
FIRST_EMPLOYEE_ID = 5_400_000_001
FIRST_FLOOR_USER_ID = 5_500_000_001
WAIT = 600.0
LIFTED_LIMITS = {
    "GATEWAY_PER_CHAT_RATE": "1000",
    "GATEWAY_PER_CHAT_BURST": "1000",
    "GATEWAY_GLOBAL_RATE": "100000",
    "GATEWAY_GLOBAL_BURST": "100000",
}


@dataclass(frozen=True)
class Options:
    employees: int
    limits: str
    mongo_url: str | None
    workdir: Path | None
    results: Path


def parse(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--employees", type=int, default=200, help="simulated employees (200)")
    parser.add_argument(
        "--limits",
        choices=("lifted", "production"),
        default="lifted",
        help="the gateway's outgoing Telegram limits: lifted (default; the fake Bot API has no "
        "flood control and the floors have no limiter) or production (1 msg/s per chat, 30/s)",
    )
    parser.add_argument(
        "--mongo-url",
        default=os.environ.get("MONGO_URL") or None,
        help="a MongoDB server (default: MONGO_URL, else a private mongoeco process)",
    )
    parser.add_argument("--workdir", type=Path, default=None, help="logs (default: a temp dir)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the report to write")
    args = parser.parse_args(argv)
    return Options(args.employees, args.limits, args.mongo_url, args.workdir, args.results)


def upstream_of(url: str) -> str:
    """host:port of a single-server MongoDB URL (the relay cannot stand in for a replica set's
    several hosts, nor for an SRV record)."""
    parts = urlsplit(url)
    hosts = parts.netloc.rpartition("@")[2]
    if parts.scheme != "mongodb" or "," in hosts:
        raise SystemExit(f"the benchmark needs a single-host mongodb:// URL, not {parts.scheme}")
    return hosts if ":" in hosts else f"{hosts}:27017"


def relayed(url: str, port: int) -> str:
    """The same MongoDB URL, aimed at the relay on this machine."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = (userinfo + "@" if userinfo else "") + f"127.0.0.1:{port}"
    query = "&".join(p for p in parts.query.split("&") if p and "directConnection" not in p)
    query = "&".join(filter(None, [query, "directConnection=true"]))
    return urlunsplit((parts.scheme, netloc, parts.path or "/", query, ""))


def start_helper(argv: list[str], log: Path, ready: str, timeout: float = 120.0) -> ServerProcess:
    process = ServerProcess([sys.executable, *argv], log_path=log, cwd=Path.cwd())
    process.start()
    deadline = time.monotonic() + timeout
    while ready not in process.log_text():
        if not process.running() or time.monotonic() > deadline:
            process.stop()
            raise RuntimeError(f"{argv} did not start:\n{process.log_text()[-2000:]}")
        time.sleep(0.05)
    return process


def directory_entry(index: int) -> tuple[DirectoryEntry, User]:
    uid = f"bench.user{index:04d}"
    entry = DirectoryEntry(
        uid=uid,
        given_name="Bench",
        surname=f"User{index:04d}",
        display_name=f"Bench User{index:04d}",
        mail=f"{uid}@example.com",
        title="Tester",
        department="QA",
    )
    user = User(FIRST_EMPLOYEE_ID + index, "Bench", f"bench_{index:04d}", f"User{index}", "en")
    return entry, user


def main(argv: Sequence[str] | None = None) -> None:
    options = parse(sys.argv[1:] if argv is None else argv)
    report = Report(options.employees, options.limits, machine(), datetime.now(UTC))
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="helpdesk-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"benchmark: {options.employees} employees; logs in {workdir}", flush=True)
    with ExitStack() as stack:
        mongo_url = options.mongo_url
        costs: Path | None = None
        if mongo_url is None:
            costs = workdir / "mongo-costs.json"
            server = MongoEcoServer(workdir, costs=costs)
            server.start()
            stack.callback(server.stop)
            mongo_url = server.url
            report.mongo = f"mongoeco {metadata.version('mongoeco')} (memory engine, own process)"
            mongo_pids = [server.process.pid]
        else:
            report.mongo = f"MONGO_URL server ({urlsplit(mongo_url).hostname})"
            mongo_pids = pids_named("mongod")  # none when the server is on another machine
        counts = workdir / "relay.json"
        relay = start_helper(
            ["-m", "bench.relay", "--upstream", upstream_of(mongo_url),
             "--marker", "gateway_fsm", "--marker", "bench_fsm", "--counts", str(counts)],
            workdir / "relay.log",
            "relay listening on ",
        )  # fmt: skip
        stack.callback(relay.stop)
        relay_port = int(relay.log_text().split("relay listening on ", 1)[1].split()[0])
        servers = {
            MONGO_SERVER: mongo_pids,
            RABBITMQ_SERVER: pids_named("beam.smp"),
            RELAY: [relay.pid],
        }
        relay_url = relayed(mongo_url, relay_port)

        gateway_env = {"HELPDESK_MONGO_URL": relay_url}
        if options.limits == "lifted":
            gateway_env.update(LIFTED_LIMITS)
        sandbox = Sandbox(
            SandboxConfig(
                workdir=workdir / "sandbox",
                mongo_url=mongo_url,
                imsim_questions=False,  # the scripted employees never answer a question
                webchat=False,
                service_env={"gateway": gateway_env},
                start_timeout=180.0,
            )
        )
        print("starting the sandbox...", flush=True)
        sandbox.start()
        stack.callback(sandbox.stop)
        assert sandbox.slapd is not None
        people = [directory_entry(i) for i in range(options.employees)]
        for entry, _ in people:
            sandbox.slapd.add_employee(entry)
        asyncio.run(measure(sandbox, people, report, counts, relay_url, workdir, servers, costs))
        asyncio.run(floor_mailer(report, sandbox, mongo_url, workdir, servers, costs))
    print(render(report))
    options.results.write_text(render(report))
    print(f"written {options.results}")


async def measure(
    sandbox: Sandbox,
    people: list[tuple[DirectoryEntry, User]],
    report: Report,
    counts: Path,
    relay_url: str,
    workdir: Path,
    servers: dict[str, list[int]],
    mongo_costs: Path | None,
) -> None:
    assert sandbox.telegram is not None
    assert sandbox.smtp is not None
    spool = SpoolIndex(sandbox.smtp.spool_dir)
    texts = BotTexts("en")
    async with WideClient(sandbox.telegram.base_url) as tg, ChatWatcher(tg.base_url) as watcher:
        employees = [
            Employee(
                user=user,
                email=entry.mail,
                tg=tg,
                watcher=watcher,
                texts=texts,
                photo=small_photo(i),
                patience=WAIT,
                expect_timeout=WAIT,
            )
            for i, (entry, user) in enumerate(people)
        ]
        for employee in employees:
            await employee.open()
        print(f"{len(employees)} employees sign in and file a ticket each...", flush=True)
        processes = {name: [s.process.pid] for name, s in sandbox.services.items()} | servers
        cpu_before = cpu_of(processes)
        costs_before = read_costs(mongo_costs)
        cpu_at_send: CpuReading = {}
        costs_at_send: Costs = {}
        messages_before = relay_count(counts, None)
        commands_before = relay_commands(counts)
        bot_calls_before = await bot_calls(tg)
        started_wall, started = time.time(), time.monotonic()

        def at_send() -> None:
            cpu_at_send.update(cpu_of(processes))
            costs_at_send.update(read_costs(mongo_costs))

        gate = Gate(len(employees), WAIT, on_open=at_send)
        journeys = await asyncio.gather(
            *(helpdesk_journey(e, spool, f"Bench ticket {i}: the network is down", gate)
              for i, e in enumerate(employees))
        )  # fmt: skip
        report.journey_seconds = time.monotonic() - started
        await collect_emails(report, journeys, spool, started_wall)
        cpu_after = cpu_of(processes)
        report.cpu_seconds = cpu_between(cpu_before, cpu_after)
        report.send_cpu_seconds = cpu_between(cpu_at_send, cpu_after) if cpu_at_send else {}
        await asyncio.sleep(1.0)  # the relay's and the server's latest counts are on disk
        costs_after = read_costs(mongo_costs)
        report.mongo_costs = costs_between(costs_before, costs_after)
        report.send_mongo_costs = costs_between(costs_at_send, costs_after) if costs_at_send else {}
        read_services(report, sandbox, counts)
        report.gateway_mongo_round_trips = relay_count(counts, None) - messages_before
        report.gateway_commands = relay_commands(counts) - commands_before
        report.bot_calls = await bot_calls(tg) - bot_calls_before
        report.rabbitmq = await rabbitmq_version(sandbox.rabbit_url)

        # The floors run on a quiet machine: the services and the simulator are stopped.
        stop_everything_but_stand_ins(sandbox)
        token, api = tg.token, sandbox.telegram.base_url
        floor_photo = small_photo(0)
        offset = 0
        for name, extra in (
            ("echo", []),
            ("fsm", ["--mongo-url", relay_url, "--round-trips", f"{report.fsm_per_action:.3f}"]),
        ):
            print(f"floor: {name} bot...", flush=True)
            bot = start_helper(
                ["-m", "bench.floorbots", name, "--api", api, "--token", token, *extra],
                workdir / f"floor-{name}.log",
                "floor bot polling",
            )
            bot_cpu = cpu_seconds(bot.pid) or 0.0
            calls_before = await bot_calls(tg)
            try:
                users = [
                    User(FIRST_FLOOR_USER_ID + offset + i, "Floor", language_code="en")
                    for i in range(len(people))
                ]
                offset += len(people)
                floor_gate = Gate(len(users), timeout=WAIT)
                results = await asyncio.gather(
                    *(floor_user(tg, watcher, u, floor_photo, floor_gate, WAIT) for u in users)
                )
                report.floor_cpu_seconds[name] = (cpu_seconds(bot.pid) or 0.0) - bot_cpu
                report.floor_bot_calls[name] = await bot_calls(tg) - calls_before
                report.floor_rss_mb[name] = rss_mb(bot.pid) or (math.nan, math.nan)
            finally:
                bot.stop(sig=signal.SIGTERM, timeout=15.0)
            report.floor_latency[name] = Summary.of(
                [a.latency for actions in results for a in actions if a.latency is not None]
            )
        await asyncio.sleep(1.0)
        report.floor_fsm_round_trips = relay_count(counts, "bench_fsm")
        report.floor_updates = len(people) * len(FLOOR_SCRIPT)
    await floor_smtp(report, sandbox, journeys)


async def collect_emails(
    report: Report, journeys: list[Journey], spool: SpoolIndex, started_wall: float
) -> None:
    filed = [j.filing for j in journeys if j.filing is not None]
    report.errors = [j.error for j in journeys if j.error]
    report.tickets = len(filed)
    deadline = time.monotonic() + WAIT
    while True:
        spool.refresh()
        arrived = {f.reference: spool.tickets.get(f.reference) for f in filed}
        if all(arrived.values()) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    send_to_email = []
    last_email = started_wall
    for filing in filed:
        mails = arrived.get(filing.reference)
        if mails:
            send_to_email.append(mails[0].at - filing.sent_wall)
            last_email = max(last_email, mails[0].at)
    report.emailed = len(send_to_email)
    report.send_to_email = Summary.of(send_to_email)
    first_send = min((f.sent_wall for f in filed), default=started_wall)
    report.send_to_email_rate = len(send_to_email) / max(last_email - first_send, 1e-9)
    report.end_to_end_rate = len(send_to_email) / max(last_email - started_wall, 1e-9)
    report.end_to_end_seconds = last_email - started_wall
    actions = [a for j in journeys for a in j.actions]
    report.latency = Summary.of([a.latency for a in actions if a.latency is not None])
    by_name: dict[str, list[float]] = {}
    for action in actions:
        if action.latency is not None:
            by_name.setdefault(action.name, []).append(action.latency)
    report.latency_by_action = {name: Summary.of(v) for name, v in by_name.items()}
    report.actions = len(actions)
    report.sample_email = next((mails[0].mail.raw for mails in arrived.values() if mails), b"")


def read_services(report: Report, sandbox: Sandbox, counts: Path) -> None:
    for name, service in sandbox.services.items():
        report.rss_mb[name] = rss_mb(service.process.pid) or (math.nan, math.nan)
    fsm = relay_count(counts, "gateway_fsm")
    report.fsm_round_trips = fsm
    report.fsm_per_action = fsm / max(report.actions, 1)


def relay_count(counts: Path, marker: str | None) -> int:
    """Round trips the relay counted for a collection, or in all (None); it writes the counts
    twice a second."""
    counted = json.loads(counts.read_text())
    return int(counted["messages"] if marker is None else counted["markers"][marker])


async def bot_calls(tg: WideClient) -> Counter[str]:
    """Bot API requests the fake has answered so far, by method (getUpdates left out); those
    it refused count as "method (refused)"."""
    return Counter(
        c.method if c.ok else f"{c.method} (refused)"
        for c in await tg.calls()
        if c.method.lower() != "getupdates"
    )


def relay_commands(counts: Path) -> Counter[str]:
    """The relay's messages so far by command and collection."""
    return Counter(json.loads(counts.read_text()).get("commands", {}))


async def rabbitmq_version(url: str) -> str:
    import aio_pika

    try:
        connection = await aio_pika.connect(url)
    except Exception as error:  # the report says so rather than failing the whole run
        return f"unknown ({type(error).__name__})"
    async with connection:
        if connection.transport is None:
            return "unknown"
        properties = connection.transport.connection.server_properties
        version = properties.get("version", b"?")
        return version.decode() if isinstance(version, bytes) else str(version)


def stop_everything_but_stand_ins(sandbox: Sandbox) -> None:
    if sandbox.imsim is not None:
        sandbox.imsim.stop()
    for service in sandbox.services.values():
        service.process.signal(signal.SIGTERM)
    for service in sandbox.services.values():
        service.terminate(timeout=30)


async def floor_smtp(report: Report, sandbox: Sandbox, journeys: list[Journey]) -> None:
    """Floor (c): the same ticket email, N times, over one SMTP connection (as the mailer)."""
    assert sandbox.smtp is not None
    count = len(journeys)
    raw = report.sample_email
    if not raw:
        return
    print("floor: raw aiosmtplib sends...", flush=True)
    started = time.monotonic()
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=sandbox.smtp.port) as smtp:
        for _ in range(count):
            await smtp.sendmail(BOT_ADDRESS, [sandbox.config.helpdesk_address], raw)
    report.floor_smtp_rate = count / (time.monotonic() - started)


async def floor_mailer(
    report: Report,
    sandbox: Sandbox,
    mongo_url: str,
    workdir: Path,
    servers: dict[str, list[int]],
    mongo_costs: Path | None,
) -> None:
    """Floor (d): the mailer's minimum per ticket (bench/floormailer.py), N tickets published
    at once, each with its own photo in GridFS; timed from the first publish to the last
    event back."""
    assert sandbox.smtp is not None
    count = report.tickets
    if not report.sample_email or not count:
        return
    print("floor: bare FastStream mailer...", flush=True)
    email = workdir / "floor-email.eml"
    email.write_bytes(report.sample_email)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    bucket = AsyncGridFSBucket(client[FLOOR_MAILER_DB], bucket_name=FLOOR_BUCKET)
    photos = [
        str(await bucket.upload_from_stream(f"photo-{i}.jpg", small_photo(i))) for i in range(count)
    ]
    await client.close()
    consumer = start_helper(
        ["-m", "bench.floormailer", "--rabbit-url", sandbox.rabbit_url, "--mongo-url", mongo_url,
         "--smtp-port", str(sandbox.smtp.port), "--email", str(email),
         "--recipient", sandbox.config.helpdesk_address],
        workdir / "floor-mailer.log",
        "floor mailer consuming",
    )  # fmt: skip
    processes = {FLOOR_MAILER: [consumer.pid]} | {
        name: pids for name, pids in servers.items() if name != RELAY
    }
    done = asyncio.Event()
    emailed: list[float] = []
    broker = RabbitBroker(sandbox.rabbit_url)

    @broker.subscriber(EMAILED)
    async def on_emailed(event: FloorEmailed) -> None:
        emailed.append(time.monotonic())
        if len(emailed) >= count:
            done.set()

    try:
        await broker.start()
        cpu_before = cpu_of(processes)
        costs_before = read_costs(mongo_costs)
        started = time.monotonic()
        for i, photo in enumerate(photos):
            await broker.publish(FloorTicket(ticket_id=f"floor-{i}", photo_ids=[photo]), TICKETS)
        await asyncio.wait_for(done.wait(), WAIT)
        report.floor_mailer_cpu = cpu_between(cpu_before, cpu_of(processes))
        if mongo_costs is not None:
            await asyncio.sleep(1.0)  # the server's latest costs are on disk
            report.floor_mailer_mongo_costs = costs_between(costs_before, read_costs(mongo_costs))
        report.floor_mailer_rate = count / max(emailed[-1] - started, 1e-9)
        report.floor_mailer_tickets = count
        report.floor_rss_mb["mailer"] = rss_mb(consumer.pid) or (math.nan, math.nan)
        report.floor_cpu_seconds["mailer"] = report.floor_mailer_cpu[FLOOR_MAILER]
    finally:
        with contextlib.suppress(Exception):
            await (await broker.declare_queue(EMAILED)).delete()
        await broker.stop()
        consumer.stop(sig=signal.SIGTERM, timeout=15.0)
