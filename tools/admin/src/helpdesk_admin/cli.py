"""`helpdesk-admin`: admin commands over the broker, dead-letter queues, the manager's report.

Each admin command is published to `helpdesk.admin` and answered by one AdminCommandCompleted;
the exit status follows its outcome (see `ExitCode`). Connection and identity come from global
options or the environment: HELPDESK_RABBIT_URL, HELPDESK_ADMIN_OPERATOR (default $USER), and
the operator's signing key HELPDESK_ADMIN_KEY_FILE (+ HELPDESK_ADMIN_KEY_NAME, default the file's
name without `.key`): every command is signed, and services run only commands signed by a key
they know (`keygen` makes one).
"""

from __future__ import annotations

import asyncio
import getpass
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from enum import IntEnum
from pathlib import Path
from typing import Annotated, Any

import aio_pika
import typer
from aio_pika.abc import AbstractConnection
from helpdesk_contracts.admin import v1 as admin_v1
from helpdesk_contracts.admin.v1 import AdminCommandCompleted, Outcome
from helpdesk_contracts.base import AdminCommand
from helpdesk_runtime import signing
from pydantic import ValidationError

from helpdesk_admin import dlq as dead_letters
from helpdesk_admin import permissions as rights
from helpdesk_admin.client import AdminClient, AdminError, consumer_of
from helpdesk_admin.report import RENDERERS, Report


class ExitCode(IntEnum):
    DONE = 0
    ERROR = 1  # broker unreachable, publish refused, malformed answer
    USAGE = 2
    NOT_FOUND = 3
    REJECTED = 4
    FAILED = 5
    TIMEOUT = 6


OUTCOME_EXIT = {
    Outcome.DONE: ExitCode.DONE,
    Outcome.NOT_FOUND: ExitCode.NOT_FOUND,
    Outcome.REJECTED: ExitCode.REJECTED,
    Outcome.FAILED: ExitCode.FAILED,
}

DEFAULT_RABBIT_URL = "amqp://guest:guest@127.0.0.1:5672/"

app = typer.Typer(
    name="helpdesk-admin",
    help="Operate a running helpdesk: admin commands, dead-letter queues, the manager's report.",
    epilog="Exit status: 0 done, 1 broker error, 2 usage, 3 not found, 4 rejected, 5 failed, "
    "6 no answer in time (the command stays queued).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
dlq_app = typer.Typer(help="Dead-letter queues: list, replay, purge.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")


@dataclass(frozen=True, slots=True)
class Options:
    rabbit_url: str
    operator: str
    timeout: float
    json_output: bool
    key_file: Path | None = None
    key_name: str | None = None


def _default_operator() -> str:
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@app.callback()
def _global(
    ctx: typer.Context,
    rabbit_url: Annotated[
        str,
        typer.Option(
            envvar="HELPDESK_RABBIT_URL",
            help="AMQP URL with the operator's credentials and vhost.",
            show_default=False,
        ),
    ] = DEFAULT_RABBIT_URL,
    operator: Annotated[
        str | None,
        typer.Option(
            envvar="HELPDESK_ADMIN_OPERATOR",
            help="Who is asking; recorded as requested_by in the services' audit log. "
            "Default: $USER.",
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds to wait for the answer.")] = 30.0,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the whole answer as JSON.")
    ] = False,
    key_file: Annotated[
        Path | None,
        typer.Option(
            envvar="HELPDESK_ADMIN_KEY_FILE",
            dir_okay=False,
            help="The operator's Ed25519 private key (PEM) that signs every command.",
        ),
    ] = None,
    key_name: Annotated[
        str | None,
        typer.Option(
            envvar="HELPDESK_ADMIN_KEY_NAME",
            help="The key's name as the services know it. Default: the key file's name "
            "without .key.",
        ),
    ] = None,
) -> None:
    ctx.obj = Options(
        rabbit_url, operator or _default_operator(), timeout, json_output, key_file, key_name
    )
    _quiet_libraries()


def _quiet_libraries() -> None:
    """The CLI reports failures itself; library tracebacks would repeat them (with the URL)."""
    logging.basicConfig(level=logging.WARNING, format="helpdesk-admin: %(message)s")
    for name in ("aiormq", "aio_pika", "helpdesk.admin.faststream"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _options(ctx: typer.Context) -> Options:
    options = ctx.obj
    assert isinstance(options, Options)  # noqa: S101 - set by the callback above
    return options


def _fail(message: str, code: ExitCode) -> typer.Exit:
    typer.echo(f"helpdesk-admin: {message}", err=True)
    return typer.Exit(int(code))


def _build[C: AdminCommand](command: type[C], options: Options, **fields: Any) -> C:
    try:
        return command(requested_by=options.operator, **fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'input'}: "
            + ("not valid" if e["type"] == "string_pattern_mismatch" else e["msg"])
            for e in exc.errors(include_url=False)
        )
        raise _fail(problems, ExitCode.USAGE) from None


async def _request(options: Options, command: AdminCommand) -> AdminCommandCompleted | None:
    async with AdminClient(options.rabbit_url) as client:
        return await client.request(command, wait_seconds=options.timeout)


def _signed[C: AdminCommand](options: Options, command: C) -> C:
    if options.key_file is None:
        raise _fail(
            "no signing key: set HELPDESK_ADMIN_KEY_FILE or --key-file "
            "(`helpdesk-admin keygen NAME` makes one)",
            ExitCode.USAGE,
        )
    try:
        key = signing.load_private_key(options.key_file)
    except signing.SigningError as exc:
        raise _fail(str(exc), ExitCode.USAGE) from None
    name = options.key_name or options.key_file.name.removesuffix(".key")
    try:
        return signing.sign(command, key_name=name, key=key)
    except ValidationError:
        raise _fail(
            f"key name {name!r} is not valid: letters, digits, . _ @ -", ExitCode.USAGE
        ) from None


def _send(options: Options, command: AdminCommand) -> AdminCommandCompleted:
    """Sign, publish, wait, and turn a missing answer or a broker problem into an exit."""
    command = _signed(options, command)
    try:
        completed = asyncio.run(_request(options, command))
    except AdminError as exc:
        raise _fail(str(exc), ExitCode.ERROR) from None
    if completed is None:
        raise _fail(
            f"no answer to {command.routing_key} within {options.timeout:g} s "
            f"(message_id {command.message_id}). Is {consumer_of(type(command))} running? "
            "The command stays queued and runs when it starts.",
            ExitCode.TIMEOUT,
        )
    return completed


def _print_result(completed: AdminCommandCompleted, options: Options) -> None:
    if options.json_output:
        typer.echo(completed.model_dump_json(indent=2))
        return
    detail = f": {completed.detail}" if completed.detail else ""
    typer.echo(f"{completed.service}: {completed.outcome.value}{detail}")
    for key, value in completed.result.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        typer.echo(f"  {key}: {shown}")


def _run(ctx: typer.Context, command: type[AdminCommand], **fields: Any) -> None:
    options = _options(ctx)
    completed = _send(options, _build(command, options, **fields))
    _print_result(completed, options)
    raise typer.Exit(int(OUTCOME_EXIT[completed.outcome]))


def _user(selector: str) -> dict[str, Any]:
    """A Telegram user id (digits) or an email address."""
    text = selector.strip()
    if text.isdigit():
        return {"telegram_user_id": int(text)}
    return {"email": text}


UserArgument = Annotated[str, typer.Argument(help="Telegram user id or email address.")]


@app.command("delete-user")
def delete_user(ctx: typer.Context, user: UserArgument) -> None:
    """Forget an employee's binding and profile (they must sign in again)."""
    _run(ctx, admin_v1.DeleteUser, **_user(user))


@app.command("revoke-user")
def revoke_user(ctx: typer.Context, user: UserArgument) -> None:
    """Block an employee's Telegram account at once, keeping the records; by email, block the
    address too (no new Telegram account can sign in with it)."""
    _run(ctx, admin_v1.RevokeUser, **_user(user))


@app.command("unrevoke-user")
def unrevoke_user(ctx: typer.Context, user: UserArgument) -> None:
    """Lift a revoke: the account, or the address and its accounts, may sign in again."""
    _run(ctx, admin_v1.UnrevokeUser, **_user(user))


@app.command("lookup-user")
def lookup_user(ctx: typer.Context, user: UserArgument) -> None:
    """Show what auth knows about a user."""
    _run(ctx, admin_v1.LookupUser, **_user(user))


@app.command("clear-location")
def clear_location(
    ctx: typer.Context,
    telegram_user_id: Annotated[int, typer.Argument(help="Telegram user id.")],
) -> None:
    """Forget the location the bot offers a user again."""
    _run(ctx, admin_v1.ClearLocation, telegram_user_id=telegram_user_id)


@app.command("run-janitor")
def run_janitor(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option(help="Report what would go, delete nothing.")] = False,
) -> None:
    """Run the retention rules now."""
    _run(ctx, admin_v1.RunJanitor, dry_run=dry_run)


@app.command("broadcast")
def broadcast(
    ctx: typer.Context,
    text: Annotated[str | None, typer.Argument(help="The text; or use --file.")] = None,
    file: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="Read the text from a file.")
    ] = None,
) -> None:
    """Send a text to every active user (rate limited by the gateway)."""
    if (text is None) == (file is None):
        raise _fail("give the text or --file, not both", ExitCode.USAGE)
    body = text if text is not None else file.read_text(encoding="utf-8") if file else ""
    _run(ctx, admin_v1.Broadcast, text=body.strip())


@app.command("reload-categories")
def reload_categories(ctx: typer.Context) -> None:
    """Re-read the category catalogue file."""
    _run(ctx, admin_v1.ReloadCategories)


def _day(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise typer.BadParameter("expected YYYY-MM-DD") from None


@app.command("report")
def report(
    ctx: typer.Context,
    since: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")],
    until: Annotated[str, typer.Option(help="Last day (inclusive), YYYY-MM-DD.")],
    output_format: Annotated[
        str, typer.Option("--format", help="md, csv or html.", case_sensitive=False)
    ] = "md",
    output: Annotated[
        Path | None, typer.Option(dir_okay=False, help="Write here instead of stdout.")
    ] = None,
) -> None:
    """The support manager's figures for a period (computed by the gateway)."""
    options = _options(ctx)
    renderer = RENDERERS.get(output_format.lower())
    if renderer is None:
        raise _fail(f"unknown format {output_format!r}: md, csv or html", ExitCode.USAGE)
    command = _build(admin_v1.BuildReport, options, since=_day(since), until=_day(until))
    completed = _send(options, command)
    if completed.outcome is not Outcome.DONE:
        _print_result(completed, options)
        raise typer.Exit(int(OUTCOME_EXIT[completed.outcome]))
    try:
        figures = Report.model_validate(completed.result)
    except ValidationError as exc:
        raise _fail(
            f"the gateway's figures have an unexpected shape: {exc}", ExitCode.ERROR
        ) from None
    text = renderer(figures)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)


# -- dead-letter queues ---------------------------------------------------------------------


QueueArgument = Annotated[
    str | None,
    typer.Argument(help="Work queue (e.g. mailer.ticket.submitted.v1); default: every queue."),
]


def _queues(queue: str | None) -> list[str]:
    try:
        return [dead_letters.resolve(queue)] if queue else dead_letters.work_queues()
    except dead_letters.DlqError as exc:
        raise _fail(str(exc), ExitCode.USAGE) from None


async def _with_connection[T](
    options: Options, work: Callable[[AbstractConnection], Awaitable[T]]
) -> T:
    try:
        connection = await aio_pika.connect(options.rabbit_url, timeout=options.timeout)
    except Exception as exc:  # the URL carries the password: name the failure, not the URL
        raise AdminError(f"cannot connect to RabbitMQ: {type(exc).__name__}") from None
    async with connection:
        return await work(connection)


def _dlq_run[T](options: Options, work: Callable[[AbstractConnection], Awaitable[T]]) -> T:
    try:
        return asyncio.run(_with_connection(options, work))
    except (AdminError, dead_letters.DlqError) as exc:
        raise _fail(str(exc), ExitCode.ERROR) from None


def _count(value: int | None) -> str:
    return "missing" if value is None else str(value)


@dlq_app.command("list")
def dlq_list(
    ctx: typer.Context,
    queue: QueueArgument = None,
    all_queues: Annotated[
        bool, typer.Option("--all", help="Show queues with empty dead-letter queues too.")
    ] = False,
) -> None:
    """Dead letters per work queue (and the work queue's backlog and consumers)."""
    options = _options(ctx)
    names = _queues(queue)
    rows = _dlq_run(options, lambda connection: dead_letters.counts(connection, names))
    if options.json_output:
        typer.echo(json.dumps([asdict(row) for row in rows], indent=2))
        return
    shown = [r for r in rows if all_queues or queue or (r.dead_letters or 0) > 0]
    width = max([len("QUEUE"), *(len(r.queue) for r in shown)])
    typer.echo(f"{'QUEUE':<{width}}  {'DEAD':>7}  {'READY':>7}  {'CONSUMERS':>9}")
    for r in shown:
        typer.echo(
            f"{r.queue:<{width}}  {_count(r.dead_letters):>7}  {_count(r.ready):>7}  "
            f"{_count(r.consumers):>9}"
        )
    total = sum(r.dead_letters or 0 for r in rows)
    typer.echo(f"{total} dead letter(s) in {len(rows)} queue(s)")


@dlq_app.command("replay")
def dlq_replay(
    ctx: typer.Context,
    queue: QueueArgument = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many per queue.")] = None,
) -> None:
    """Move dead letters back into their work queue (oldest first)."""
    options = _options(ctx)
    names = _queues(queue)

    async def work(connection: AbstractConnection) -> dict[str, int]:
        return {name: await dead_letters.replay(connection, name, limit=limit) for name in names}

    moved = _dlq_run(options, work)
    for name, count in moved.items():
        if count or queue:
            typer.echo(f"{name}: replayed {count}")
    typer.echo(f"replayed {sum(moved.values())} message(s)")


@dlq_app.command("purge")
def dlq_purge(
    ctx: typer.Context,
    queue: QueueArgument = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Drop every dead letter of a queue (or of all queues). Irreversible."""
    options = _options(ctx)
    names = _queues(queue)
    what = f"{names[0]}.dlq" if queue else "EVERY dead-letter queue"
    if not yes and not typer.confirm(f"Drop all messages in {what}?"):
        raise typer.Exit(int(ExitCode.USAGE))

    async def work(connection: AbstractConnection) -> dict[str, int]:
        return {name: await dead_letters.purge(connection, name) for name in names}

    dropped = _dlq_run(options, work)
    for name, count in dropped.items():
        if count or queue:
            typer.echo(f"{name}: purged {count}")
    typer.echo(f"purged {sum(dropped.values())} message(s)")


@app.command("keygen")
def keygen(
    name: Annotated[
        str, typer.Argument(help="The key's name, e.g. the operator's login (audit logs show it).")
    ],
    out: Annotated[
        Path, typer.Option(file_okay=False, help="Directory for NAME.key (created, mode 0700).")
    ] = Path(),
) -> None:
    """Make an operator's signing key pair: NAME.key (keep it private) and the public key line."""
    try:
        signing.check_key_name(name)
    except ValueError as exc:
        raise _fail(str(exc), ExitCode.USAGE) from None
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = out / f"{name}.key"
    key = signing.generate_key()
    try:
        # O_EXCL: never overwrite a key that may already be distributed.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise _fail(f"{path} exists; choose another name or remove it", ExitCode.USAGE) from None
    with os.fdopen(fd, "wb") as file:
        file.write(signing.private_key_pem(key))
    typer.echo(f"wrote {path} (private: keep it on the operator's machine, mode 0600)", err=True)
    typer.echo(
        "add this to HELPDESK_ADMIN_PUBLIC_KEYS of gateway, auth and janitor "
        "(comma-separated with the other operators' keys):",
        err=True,
    )
    typer.echo(f"{name}={signing.public_key_text(key)}")


@app.command("permissions")
def permissions(
    vhost: Annotated[str, typer.Option(help="The helpdesk's virtual host.")] = "/",
    user_prefix: Annotated[
        str, typer.Option(help="Service accounts are PREFIX<service>, one per service.")
    ] = rights.SERVICE_USER_PREFIX,
    operators_user: Annotated[
        str, typer.Option(help="The account helpdesk-admin uses.")
    ] = "helpdesk-ops",
    integrator_user: Annotated[
        list[str] | None,
        typer.Option(help="USER=QUEUE_PREFIX of a third party (repeatable), e.g. crm=crm."),
    ] = None,
    definitions: Annotated[
        bool,
        typer.Option(
            "--definitions",
            help="Print a RabbitMQ definitions file instead: the whole topology and the "
            "accounts (passwords as @@user@@ placeholders).",
        ),
    ] = False,
) -> None:
    """Print the rabbitmqctl commands that give each account only what it needs."""
    if definitions:
        document = rights.definitions(
            vhost=vhost, user_prefix=user_prefix, operators_user=operators_user
        )
        typer.echo(json.dumps(document, indent=2))
        return
    for consumer, permission in rights.SERVICES.items():
        for line in permission.rabbitmqctl(vhost, f"{user_prefix}{consumer}"):
            typer.echo(line)
    for line in rights.OPERATORS.rabbitmqctl(vhost, operators_user):
        typer.echo(line)
    for entry in integrator_user or []:
        user, separator, prefix = entry.partition("=")
        if not separator or not user or not prefix:
            raise _fail(f"--integrator-user wants USER=QUEUE_PREFIX, not {entry!r}", ExitCode.USAGE)
        for line in rights.integrator(prefix).rabbitmqctl(vhost, user):
            typer.echo(line)


def main() -> None:
    app()
