"""`helpdesk sandbox`: the whole helpdesk on this machine until Ctrl-C.

Ctrl-C (SIGINT) or SIGTERM stops everything the command started, in order, and it does not
return until every process it started (and every process those started) is gone: it adopts
orphans as a subreaper and reaps them, because PID 1 on these machines does not.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType

from helpdesk_sandbox.demo import DEMO_PEOPLE, DemoPerson
from helpdesk_sandbox.imsim import CHARSET_MODES
from helpdesk_sandbox.procinfo import become_subreaper, reap_descendants
from helpdesk_sandbox.repo import find_repo_root
from helpdesk_sandbox.stack import Sandbox, SandboxConfig

DEFAULT_PORT = 8765


@dataclass(frozen=True, slots=True)
class BannerInfo:
    webchat_url: str  # "" with real Telegram
    people: tuple[DemoPerson, ...]
    pace: float
    workdir: Path
    rabbit_vhost: str
    mongo: str
    real_telegram: bool
    data: str = ""
    """Whether the data is fresh or kept from an earlier start (one line)."""
    manual: bool = False
    """The InfraManager simulator waits for the console's engineer."""
    admin_env: str = ""  # e.g. "HELPDESK_RABBIT_URL=... HELPDESK_ADMIN_KEY_FILE=..."


def banner(info: BannerInfo) -> str:
    """What a person needs to start: where to go, who to be, what will happen."""
    rule = "=" * 78
    lines = [rule, "  Helpdesk sandbox is running", rule, ""]
    if info.real_telegram:
        lines += ["  Telegram:  your real bot (TELEGRAM_BOT_TOKEN) — open it in Telegram", ""]
    else:
        lines += [f"  Web chat:  {info.webchat_url}", ""]
    lines += [
        "  Demo logins — pick a person, send /start, type their email; the code arrives in",
        "  the mailbox panel of the web chat (the SMTP sink):"
        if not info.real_telegram
        else "  the sandbox mailbox (see smtp-spool/ in the log directory):",
    ]
    width = max(len(p.email) for p in info.people)
    for person in info.people:
        lines.append(f"    {person.email.ljust(width)}  {person.name}")
        lines += [f"    {'':{width}}    - {note}" for note in person.notes()]
    pace = f"{info.pace:g} s"
    if info.manual:
        lines += [
            "",
            "  InfraManager simulator: manual — you are the support engineer. In the web chat's",
            "  InfraManager console register each ticket, take it into work, ask, comment,",
            "  resolve or reject it; each action mails the notification InfraManager would.",
        ]
    else:
        lines += [
            "",
            f"  InfraManager simulator: registers each ticket {pace} after its email, takes it",
            f"  into work {pace} later and resolves it {pace} after that; the bot then asks for",
            "  a rating. Its console in the web chat shows each ticket email as it arrived; turn",
            "  'automatic' off there (or start with --manual) to play the support engineer.",
        ]
    lines += [
        "",
        f"  RabbitMQ vhost: {info.rabbit_vhost}",
        f"  MongoDB:        {info.mongo}",
        f"  Logs:           {info.workdir}/",
        *([f"  Data:           {info.data}"] if info.data else []),
        "",
        *(
            [
                "  Admin commands (signed with the sandbox's operator key):",
                f"    {info.admin_env} uv run helpdesk-admin --help",
                "",
            ]
            if info.admin_env
            else []
        ),
        "  Press Ctrl-C to stop everything.",
        rule,
    ]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helpdesk", description="Helpdesk developer tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    sandbox = commands.add_parser(
        "sandbox",
        help="run the whole helpdesk locally with a web chat and an InfraManager simulator",
        description="Run the five services and local stand-ins until Ctrl-C. "
        "With TELEGRAM_BOT_TOKEN set, the bot talks to real Telegram instead of the fake.",
    )
    sandbox.add_argument("--port", type=int, default=DEFAULT_PORT, help="web chat port (0: any)")
    sandbox.add_argument(
        "--pace", type=float, default=5.0, help="seconds between InfraManager's notifications"
    )
    sandbox.add_argument("--charset", choices=CHARSET_MODES, default="mixed")
    sandbox.add_argument("--inbox-poll", type=float, default=2.0, help="seconds between POP3 polls")
    sandbox.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="logs and data (default: .sandbox/<time>, with --keep .sandbox/kept)",
    )
    sandbox.add_argument(
        "--keep",
        action="store_true",
        help="keep data between starts (sign-ins, tickets, InfraManager's tickets)",
    )
    sandbox.add_argument(
        "--manual",
        action="store_true",
        help="InfraManager does nothing by itself: play the engineer in the web chat's console",
    )
    return parser


KEPT_DIR = "kept"
KEPT_DATABASE = "sandbox"


def port_in_use(port: int) -> bool:
    """Whether 127.0.0.1:port is taken (checked before anything starts)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def data_line(*, keep: bool, fresh: bool, workdir: Path, mongo_url: str | None) -> str:
    if not keep:
        return "fresh (nothing is kept after Ctrl-C; --keep keeps data between starts)"
    where = "MONGO_URL" if mongo_url else f"{workdir}/"
    if fresh:
        return f"fresh, kept in {where} for the next start with --keep"
    return (
        f"kept from the last start with --keep ({where}); the web chat's history starts "
        "empty, the bot remembers sign-ins and tickets"
    )


def run_sandbox(args: argparse.Namespace) -> int:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        stop.set()

    # No exception from a signal handler: start() and stop() are never cut in half, so a
    # Ctrl-C during start-up lets it finish and then stops everything.
    token = os.environ.get("TELEGRAM_BOT_TOKEN") or None
    if token is None and args.port and port_in_use(args.port):
        print(
            f"Port {args.port} is in use (another sandbox?): stop it, or pick another port "
            f'with --port N (make sandbox ARGS="--port N"; 0 picks a free one).',
            file=sys.stderr,
            flush=True,
        )
        return 2
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    become_subreaper()
    config, data = _sandbox_config(args, token)
    sandbox = Sandbox(config)
    print(f"Starting the helpdesk sandbox (logs in {config.workdir}) ...", flush=True)
    code = _run_until_stopped(sandbox, args, data, stop)
    left = reap_descendants()
    if left:
        shown = ", ".join(f"{p.pid} ({p.command})" for p in left)
        print(f"Still running: {shown}", file=sys.stderr, flush=True)
        return 1
    print("Stopped. Nothing is left running.", flush=True)
    return code


def _sandbox_config(args: argparse.Namespace, token: str | None) -> tuple[SandboxConfig, str]:
    """The sandbox's configuration from the options, and the banner's line about its data."""
    runs = find_repo_root() / ".sandbox"
    default = runs / KEPT_DIR if args.keep else runs / datetime.now().strftime("%Y%m%d-%H%M%S")
    workdir = (args.workdir or default).resolve()
    mongo_url = os.environ.get("MONGO_URL") or None
    fresh = not (workdir / "mongo.sqlite3").exists() if mongo_url is None else True
    config = SandboxConfig(
        workdir=workdir,
        pace=args.pace,
        charset=args.charset,
        inbox_poll_seconds=args.inbox_poll,
        webchat_port=args.port,
        telegram_token=token,
        mongo_url=mongo_url,
        mongo_sqlite=args.keep,
        mongo_db=KEPT_DATABASE if args.keep else None,
        keep_database=args.keep,
        imsim_mode="manual" if args.manual else "auto",
    )
    data = data_line(keep=args.keep, fresh=fresh, workdir=workdir, mongo_url=mongo_url)
    return config, data


def _run_until_stopped(
    sandbox: Sandbox, args: argparse.Namespace, data: str, stop: threading.Event
) -> int:
    """Start, show the banner, report crashes until `stop` is set, then stop: the exit code."""
    code = 0
    try:
        sandbox.start()
        print(banner(_banner_info(sandbox, args, data)), flush=True)
        reported: set[str] = set()
        while not stop.wait(1.0):
            for name in sorted(set(sandbox.crashed()) - reported):
                print(f"!! {name} stopped unexpectedly; see {sandbox.config.workdir}", flush=True)
                reported.add(name)
    except Exception as error:
        print(f"The sandbox could not start: {error}", file=sys.stderr, flush=True)
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("Stopping ...", flush=True)
        try:
            sandbox.stop()
        except Exception as error:
            print(f"Stopping was not clean: {error}", file=sys.stderr, flush=True)
            code = 1
    return code


def _banner_info(sandbox: Sandbox, args: argparse.Namespace, data: str) -> BannerInfo:
    return BannerInfo(
        webchat_url=sandbox.webchat_url,
        people=DEMO_PEOPLE,
        pace=sandbox.config.pace,
        workdir=sandbox.config.workdir,
        rabbit_vhost=sandbox.vhost.name,
        mongo=f"{sandbox.mongo_url} (database {sandbox.mongo_db})",
        real_telegram=sandbox.real_telegram,
        data=data,
        manual=args.manual,
        admin_env=" ".join(f"{k}={v}" for k, v in sandbox.admin_env().items()),
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "sandbox":
        return run_sandbox(args)
    return 2
