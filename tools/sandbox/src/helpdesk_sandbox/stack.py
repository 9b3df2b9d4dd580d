"""The sandbox orchestrator: the five services and every local stand-in, as OS processes.

`Sandbox(SandboxConfig(workdir=...))` starts, in order: a fresh RabbitMQ vhost on the machine's
broker, MongoDB (`MONGO_URL`, or a private mongoeco process), slapd with the demo employees,
Dovecot with the helpdesk mailbox, the SMTP sink, the fake Bot API (unless a real Telegram bot
token is given), the five services, then the InfraManager simulator and the web chat. Every
process runs in a session of its own; `stop()` stops them in reverse order (services with
SIGTERM, so they shut down gracefully), deletes the vhost and leaves no process behind. A
failed start stops whatever had started.

It is a plain synchronous API, so tests, fault tests and the benchmark can drive it:

    with Sandbox(SandboxConfig(workdir=tmp_path, pace=0.5)) as sandbox:
        async with sandbox.telegram_client() as tg: ...      # act as employees
        sandbox.spool.messages()                             # mail the SMTP sink captured
        sandbox.services["mailer"].kill(); sandbox.services["mailer"].start()
        sandbox.smtp.stop(); sandbox.smtp.start()            # same port: SMTP down and up
        sandbox.dovecot.stop(); sandbox.dovecot.start()      # POP3 down and up

Logs of every process are in `workdir` (`<service>.log`, `smtp-sink.log`, ...).
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import secrets
import shutil
import signal
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

from helpdesk_harness.fake_telegram import FakeTelegramClient
from helpdesk_harness.ldap_server import SlapdServer
from helpdesk_harness.mongo import MongoEcoServer
from helpdesk_harness.pop3_server import DEFAULT_USER, DovecotServer
from helpdesk_harness.procs import ServerProcess, free_port, wait_for_port
from helpdesk_harness.rabbit import Vhost
from helpdesk_harness.services import SERVICES, ServiceProcess, infra_env
from helpdesk_harness.spool import SmtpSpool
from helpdesk_runtime import signing

from helpdesk_sandbox.imsim import DEFAULT_HELPDESK_ADDRESS, DEFAULT_SENDER, FIRST_NUMBER
from helpdesk_sandbox.repo import find_repo_root

log = logging.getLogger("helpdesk.sandbox")

REAL_TELEGRAM_API = "https://api.telegram.org"
_WEBCHAT_READY = "webchat listening on "
BOT_ADDRESS = DEFAULT_USER
"""The bot's mailbox: the From of ticket emails and the POP3 user InfraManager answers to."""


class SandboxError(RuntimeError):
    """A part of the sandbox did not start."""


@dataclass(frozen=True)
class SandboxConfig:
    workdir: Path
    pace: float = 5.0
    """Seconds between the simulated InfraManager's notifications of a ticket."""
    charset: str = "mixed"
    """Charset of the simulated notifications: mixed, utf-8, koi8-r or cp1251."""
    inbox_poll_seconds: float = 2.0
    imsim: bool = True
    imsim_mode: str = "auto"
    """auto: the simulator answers each ticket by itself; manual: only the console's engineer."""
    imsim_questions: bool = True
    """In auto mode every fourth ticket waits for the employee's answer to a question; off for
    scripted employees (fault tests, benchmark, image smoke), which never answer one."""
    webchat: bool = True
    webchat_port: int = 0
    """0: a free port."""
    telegram_token: str | None = None
    """A real bot token: the gateway talks to api.telegram.org (no fake, no web chat)."""
    mongo_url: str | None = None
    """None: a private mongoeco process."""
    mongo_sqlite: bool = False
    """The private mongoeco keeps data in SQLite (survives its restart)."""
    services: tuple[str, ...] = SERVICES
    service_env: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Extra environment per service, applied last (overrides)."""
    first_ticket_number: int = FIRST_NUMBER
    helpdesk_address: str = DEFAULT_HELPDESK_ADDRESS
    keep_database: bool = False
    """With MONGO_URL: keep the sandbox database instead of dropping it on stop."""
    mongo_db: str | None = None
    """The database name; None: a fresh name per start (a kept sandbox uses a fixed one)."""
    start_timeout: float = 60.0


def _await_line(process: ServerProcess, needle: str, offset: int, timeout: float) -> str:
    """The first line containing `needle` written after `offset` (so a restart waits for its own
    line); raise if the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        text = process.log_text()[offset:]
        for line in text.splitlines():
            if needle in line:
                return line
        if not process.running():
            raise SandboxError(f"{process.argv[2]} exited:\n{text[-3000:]}")
        if time.monotonic() > deadline:
            raise SandboxError(f"{process.argv[2]} did not start:\n{text[-3000:]}")
        time.sleep(0.05)


def _count_started(service: ServiceProcess) -> int:
    return sum(1 for line in service.log_lines() if line.get("message") == "started")


def _python(module: str, *args: object) -> list[str]:
    return [sys.executable, "-m", module, *(str(arg) for arg in args)]


class HelperProcess:
    """A Python process of the sandbox (`python -m <module>`) that prints a line once ready.

    `launch()` and `wait_ready()` are separate so several can start at once; `start()` does
    both. A restart appends to the same log and waits for its own ready line.
    """

    def __init__(self, name: str, argv: list[str], workdir: Path, ready: str) -> None:
        self.name = name
        self.ready = ready
        self.process = ServerProcess(argv, log_path=workdir / f"{name}.log", cwd=find_repo_root())
        self.ready_line = ""
        self._mark = 0

    def launch(self) -> None:
        self._mark = len(self.process.log_text())
        self.process.start()

    def wait_ready(self, timeout: float = 30.0) -> None:
        self.ready_line = _await_line(self.process, self.ready, self._mark, timeout)

    def start(self, timeout: float = 30.0) -> None:
        self.launch()
        self.wait_ready(timeout)

    def stop(self) -> None:
        self.process.stop(sig=signal.SIGTERM, timeout=5.0)

    def running(self) -> bool:
        return self.process.running()


class SmtpSinkProcess(HelperProcess):
    """The capturing SMTP server as a process; `.spool` reads what it captured.

    `stop()` then `start()` is an SMTP outage and its end: the port stays the same.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.spool_dir = workdir / "smtp-spool"
        self.spool = SmtpSpool(self.spool_dir)
        self._started_once = False
        super().__init__("smtp-sink", self._argv(), workdir, ready="smtp-sink listening")

    def _argv(self) -> list[str]:
        return _python("helpdesk_harness.smtp_sink", "--port", self.port, "--spool", self.spool_dir)

    def wait_ready(self, timeout: float = 30.0) -> None:
        for attempt in range(3):
            try:
                super().wait_ready(timeout)
            except SandboxError:
                self.process.stop()
                if self._started_once or attempt == 2:
                    raise
                # The port was taken between free_port() and bind: a new one, before anyone
                # was told this one.
                self.port = free_port()
                self.process.argv = self._argv()
                self.launch()
            else:
                self._started_once = True
                return


class FakeTelegramProcess(HelperProcess):
    """The fake Bot API as a process; a restart keeps the port and token (not the chats)."""

    def __init__(self, workdir: Path) -> None:
        self.port = 0
        # The bot's id (the token's first part) is in the gateway's FSM keys: a kept workdir
        # keeps the token, so an unfinished wizard survives a restart of the sandbox.
        saved = workdir / "fake-telegram.token"
        if not saved.exists():
            saved.write_text(_fake_token())
            saved.chmod(0o600)
        self.token = saved.read_text().strip()
        self.base_url = ""
        super().__init__("fake-telegram", self._argv(), workdir, ready='"base_url"')

    def _argv(self) -> list[str]:
        # Update ids grow with the clock, so a gateway that kept its database (--keep) never
        # takes a new fake's updates for ones it has handled already.
        first = time.time_ns() // 1_000_000
        return _python(
            "helpdesk_harness.fake_telegram",
            "--port", self.port,
            "--token", self.token,
            "--first-update-id", first,
        )  # fmt: skip

    def launch(self) -> None:
        self.process.argv = self._argv()  # a restart asks for the port it had
        super().launch()

    def wait_ready(self, timeout: float = 30.0) -> None:
        super().wait_ready(timeout)
        self.base_url = str(json.loads(self.ready_line)["base_url"])
        self.port = int(self.base_url.rsplit(":", 1)[1])

    def client(self) -> FakeTelegramClient:
        return FakeTelegramClient(self.base_url)


def _fake_token() -> str:
    return f"{7_000_000_000 + secrets.randbelow(10**9)}:{secrets.token_urlsafe(26)[:35]}"


ADMIN_KEY_NAME = "sandbox-operator"


class Sandbox:
    """Everything the helpdesk needs on one machine, started and stopped as one."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.workdir = config.workdir
        self.vhost = Vhost(prefix="helpdesk-sandbox")
        self.mongo_db = config.mongo_db or f"sandbox_{uuid.uuid4().hex[:12]}"
        self.mongo_url = config.mongo_url or ""
        self.mongo: MongoEcoServer | None = None
        self.slapd: SlapdServer | None = None
        self.dovecot: DovecotServer | None = None
        self.smtp: SmtpSinkProcess | None = None
        self.telegram: FakeTelegramProcess | None = None
        self.imsim: HelperProcess | None = None
        self.webchat: HelperProcess | None = None
        self.webchat_url = ""
        self.console_port = 0
        self.services: dict[str, ServiceProcess] = {}
        self.auth_pepper = secrets.token_urlsafe(24)
        # The sandbox's own operator: services trust only this key, and helpdesk-admin signs
        # with its file (the banner says how).
        self.admin_key = signing.generate_key()
        self.admin_key_file = self.workdir / f"{ADMIN_KEY_NAME}.key"
        self._stops: list[tuple[str, Callable[[], None]]] = []
        self._started = False

    # -- addresses -----------------------------------------------------------------------------

    @property
    def rabbit_url(self) -> str:
        return self.vhost.url

    @property
    def console_url(self) -> str:
        """The InfraManager console's API (the simulator's process), "" without a simulator."""
        return f"http://127.0.0.1:{self.console_port}/" if self.console_port else ""

    @property
    def real_telegram(self) -> bool:
        return self.config.telegram_token is not None

    @property
    def spool(self) -> SmtpSpool:
        return self._need(self.smtp, "the SMTP sink").spool

    @property
    def maildir(self) -> Path:
        return self._need(self.dovecot, "Dovecot").maildir_path(BOT_ADDRESS)

    def telegram_client(self) -> FakeTelegramClient:
        """A client of the fake Bot API's control API (open it with `async with`)."""
        return self._need(self.telegram, "the fake Bot API").client()

    @staticmethod
    def _need[T](part: T | None, what: str) -> T:
        if part is None:
            raise SandboxError(f"{what} is not running in this sandbox")
        return part

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        if self._started:
            raise SandboxError("this sandbox has already been started")
        self._started = True
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._write_admin_key()
        try:
            self._start_infrastructure()
            self._start_processes()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop everything started, newest first; carries on past errors and reports them."""
        errors: list[str] = []
        while self._stops:
            name, stop = self._stops.pop()
            try:
                stop()
            except Exception as error:  # one part failing to stop must not leave the rest
                errors.append(f"{name}: {error}")
                log.exception("stopping %s failed", name)
        if errors:
            raise SandboxError("stop failed: " + "; ".join(errors))

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _started_part(self, name: str, stop: Callable[[], None]) -> None:
        self._stops.append((name, stop))

    # -- the parts -------------------------------------------------------------------------------

    def _start_infrastructure(self) -> None:
        self.vhost.create()
        self._started_part("rabbitmq vhost", self.vhost.delete)

        # The Python servers spend seconds importing: launched together, awaited below.
        if self.config.mongo_url is None:
            self.mongo = MongoEcoServer(self.workdir, sqlite=self.config.mongo_sqlite)
            self.mongo.process.start()
            self.mongo_url = self.mongo.url
            self._started_part("mongoeco", self.mongo.stop)
        elif not self.config.keep_database:
            self._started_part("database", self._drop_database)
        self.smtp = SmtpSinkProcess(self.workdir)
        self.smtp.launch()
        self._started_part("smtp sink", self.smtp.stop)
        if not self.real_telegram:
            self.telegram = FakeTelegramProcess(self.workdir)
            self.telegram.launch()
            self._started_part("fake bot api", self.telegram.stop)

        slapd_dir = self.workdir / "slapd"
        # The directory is seeded from the demo people at every start; a kept workdir's old
        # copy would make the seeding fail, and there is nothing in it worth keeping.
        shutil.rmtree(slapd_dir, ignore_errors=True)
        slapd_dir.mkdir()
        self.slapd = SlapdServer(workdir=slapd_dir)
        self.slapd.start()
        self._started_part("slapd", self.slapd.close)
        # Dovecot's mail processes run as nobody and must reach the mail root, so it keeps its
        # own world-readable temp dir rather than one under the (maybe private) workdir.
        self.dovecot = DovecotServer()
        self.dovecot.start()
        self._started_part("dovecot", self.dovecot.close)

        if self.mongo is not None:
            try:
                wait_for_port(self.mongo.port, timeout=self.config.start_timeout)
            except TimeoutError:
                log_text = self.mongo.process.log_text()
                raise SandboxError(f"mongoeco did not start:\n{log_text}") from None
        self.smtp.wait_ready(self.config.start_timeout)
        if self.telegram is not None:
            self.telegram.wait_ready(self.config.start_timeout)

    def _drop_database(self) -> None:
        from pymongo import MongoClient

        client: MongoClient[dict[str, object]] = MongoClient(self.mongo_url)
        try:
            client.drop_database(self.mongo_db)
        finally:
            client.close()

    def _write_admin_key(self) -> None:
        fd = os.open(self.admin_key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(signing.private_key_pem(self.admin_key))

    def admin_env(self) -> dict[str, str]:
        """What `helpdesk-admin` needs to command this sandbox's services."""
        return {
            "HELPDESK_RABBIT_URL": self.rabbit_url,
            "HELPDESK_ADMIN_KEY_FILE": str(self.admin_key_file),
        }

    def service_env(self, name: str) -> dict[str, str]:
        """The whole environment a service process gets (beyond the inherited one)."""
        env = infra_env(
            rabbit_url=self.rabbit_url, mongo_url=self.mongo_url, mongo_db=self.mongo_db
        )
        env["HELPDESK_GRACEFUL_TIMEOUT_SECONDS"] = "5"
        public_key = signing.public_key_text(self.admin_key)
        env["HELPDESK_ADMIN_PUBLIC_KEYS"] = f"{ADMIN_KEY_NAME}={public_key}"
        env.update(self._own_env(name))
        env.update(self.config.service_env.get(name, {}))
        return env

    def _own_env(self, name: str) -> dict[str, str]:
        if name == "gateway":
            if self.config.telegram_token is not None:
                return {
                    "GATEWAY_BOT_TOKEN": self.config.telegram_token,
                    "GATEWAY_TELEGRAM_API_BASE": REAL_TELEGRAM_API,
                }
            telegram = self._need(self.telegram, "the fake Bot API")
            return {
                "GATEWAY_BOT_TOKEN": telegram.token,
                "GATEWAY_TELEGRAM_API_BASE": telegram.base_url,
                "GATEWAY_POLLING_TIMEOUT_SECONDS": "10",
            }
        if name == "auth":
            slapd = self._need(self.slapd, "slapd")
            return {
                "AUTH_CODE_PEPPER": self.auth_pepper,
                "AUTH_LDAP_URL": slapd.url,
                "AUTH_LDAP_SECURITY": "plain",
                "AUTH_LDAP_BIND_DN": slapd.service_dn,
                "AUTH_LDAP_BIND_PASSWORD": slapd.service_password,
                "AUTH_LDAP_BASE_DN": slapd.base_dn,
            }
        if name == "mailer":
            smtp = self._need(self.smtp, "the SMTP sink")
            return {
                "MAILER_SMTP_HOST": "127.0.0.1",
                "MAILER_SMTP_PORT": str(smtp.port),
                "MAILER_SMTP_SECURITY": "none",
                "MAILER_FROM_ADDRESS": BOT_ADDRESS,
                "MAILER_TICKET_TO": self.config.helpdesk_address,
                "MAILER_RETRY_BASE_SECONDS": "1",
                "MAILER_RETRY_MAX_DELAY_SECONDS": "10",
            }
        if name == "inbox":
            dovecot = self._need(self.dovecot, "Dovecot")
            return {
                "INBOX_POP3_HOST": dovecot.host,
                "INBOX_POP3_PORT": str(dovecot.pop3_port),
                "INBOX_POP3_SECURITY": "plain",
                "INBOX_POP3_USER": dovecot.user,
                "INBOX_POP3_PASSWORD": dovecot.password,
                "INBOX_POLL_INTERVAL_SECONDS": str(self.config.inbox_poll_seconds),
                # Only the simulator may change a ticket, as only InfraManager may in production.
                "INBOX_TRUSTED_SENDERS": email.utils.parseaddr(DEFAULT_SENDER)[1],
            }
        return {}

    def _start_processes(self) -> None:
        """The services, the simulator and the web chat: launched together, then awaited,
        since each spends seconds importing and connecting."""
        for name in self.config.services:
            self.services[name] = ServiceProcess(name, self.service_env(name), self.workdir)
        self._started_part("services", self._stop_services)
        for service in self.services.values():
            service.start(wait=False)
        helpers = self._helpers()
        for helper in helpers:
            helper.launch()
            self._started_part(helper.name, helper.stop)
        for service in self.services.values():
            service.wait_for_log("started", timeout=self.config.start_timeout)
        for helper in helpers:
            helper.wait_ready(timeout=self.config.start_timeout)
        if self.webchat is not None:
            self.webchat_url = self.webchat.ready_line.split(_WEBCHAT_READY, 1)[1].strip()

    def _stop_services(self) -> None:
        running = [s for s in self.services.values() if s.process.running()]
        for service in running:  # SIGTERM to all first: they shut down in parallel
            service.process.signal(signal.SIGTERM)
        for service in running:
            service.terminate(timeout=20.0)

    def _helpers(self) -> list[HelperProcess]:
        smtp = self._need(self.smtp, "the SMTP sink")
        if self.config.imsim:
            self.console_port = free_port()
            self.imsim = HelperProcess(
                "imsim",
                _python(
                    "helpdesk_sandbox.console",
                    "--port", self.console_port,
                    "--mode", self.config.imsim_mode,
                    "--spool", smtp.spool_dir,
                    "--maildir", self.maildir,
                    "--pace", self.config.pace,
                    "--charset", self.config.charset,
                    "--helpdesk-address", self.config.helpdesk_address,
                    "--first-number", self.config.first_ticket_number,
                    "--journal", self.workdir / "imsim.journal",
                    *(() if self.config.imsim_questions else ("--no-questions",)),
                ),
                self.workdir,
                ready="imsim: watching",
            )  # fmt: skip
        if self.config.webchat and not self.real_telegram:
            self.webchat = HelperProcess(
                "webchat",
                _python(
                    "helpdesk_sandbox.webchat",
                    "--port", self.config.webchat_port,
                    "--telegram", self._need(self.telegram, "the fake Bot API").base_url,
                    "--spool", smtp.spool_dir,
                    *(["--console", self.console_url] if self.imsim is not None else []),
                ),
                self.workdir,
                ready=_WEBCHAT_READY,
            )  # fmt: skip
        return [helper for helper in (self.imsim, self.webchat) if helper is not None]

    def restart_service(self, name: str, *, kill: bool = False, timeout: float = 60.0) -> None:
        """Stop a service (SIGTERM, or SIGKILL with kill=True) and start it again; returns once
        the new process logged "started" (its log file keeps the old lines too)."""
        service = self.services[name]
        if kill:
            service.kill()
        else:
            service.terminate()
        starts = _count_started(service)
        service.start(wait=False)
        deadline = time.monotonic() + timeout
        while _count_started(service) <= starts:
            if not service.process.running():
                raise SandboxError(f"{name} exited:\n{service.process.log_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise SandboxError(f"{name} did not start again within {timeout}s")
            time.sleep(0.05)

    # -- status ----------------------------------------------------------------------------------

    def crashed(self) -> list[str]:
        """Parts that were started and are no longer running."""
        parts: dict[str, bool] = {name: s.process.running() for name, s in self.services.items()}
        if self.smtp is not None:
            parts["smtp sink"] = self.smtp.running()
        if self.telegram is not None:
            parts["fake bot api"] = self.telegram.running()
        if self.imsim is not None:
            parts["imsim"] = self.imsim.running()
        if self.webchat is not None:
            parts["webchat"] = self.webchat.running()
        if self.slapd is not None:
            parts["slapd"] = self.slapd.running()
        if self.dovecot is not None:
            parts["dovecot"] = self.dovecot.running()
        return [name for name, running in parts.items() if not running]
