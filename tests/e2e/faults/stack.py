"""The sandbox the fault tests break: `helpdesk_sandbox.stack.Sandbox`, plus what faults need.

What is added around the sandbox (its own code is reused, not changed):
- the services reach RabbitMQ through a `TcpProxy` the test controls (a broker "outage" without
  touching the machine's shared broker); the test itself talks to the broker directly;
- MongoDB is always a private mongoeco process (MONGO_URL is not used: a shared real server
  cannot be restarted by a test): the memory engine, or the SQLite engine (`mongo_sqlite=True`),
  which survives a restart but is about three times slower;
- a directory with extra employees (one per simulated person), all with English Telegram
  clients, signed in once per stack;
- settings that make a fault run short, each for a reason given below;
- blocking helpers to kill, restart and wait for a service, and a readiness probe.
"""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from helpdesk_harness.fake_telegram import User
from helpdesk_harness.ldap_server import Employee
from helpdesk_harness.rabbit import RABBIT_HOST, RABBIT_PORT
from helpdesk_harness.tcp_proxy import TcpProxy
from helpdesk_sandbox.stack import Sandbox, SandboxConfig

FIRST_TELEGRAM_ID = 5_300_000_001
START_TIMEOUT = 120.0

# Why each setting differs from production:
SERVICE_ENV: dict[str, dict[str, str]] = {
    "gateway": {
        # The fake Bot API has no flood limits; Telegram's pacing (1 msg/s per chat, 30 msg/s)
        # would only stretch the run. The limiter itself is covered by the gateway's tests.
        "GATEWAY_PER_CHAT_RATE": "50",
        "GATEWAY_PER_CHAT_BURST": "50",
        "GATEWAY_GLOBAL_RATE": "1000",
        "GATEWAY_GLOBAL_BURST": "1000",
    },
    "mailer": {
        # The lease must outlast one delivery (a few ms here); production's 5 minutes would
        # make a ticket whose mailer was killed mid-send wait that long for its resend.
        "MAILER_SEND_LEASE_SECONDS": "10",
        "MAILER_RETRY_BASE_SECONDS": "1",
        # Retries every few seconds rather than minutes once the relay is back.
        "MAILER_RETRY_MAX_DELAY_SECONDS": "5",
    },
}


def employee(index: int) -> tuple[Employee, User]:
    """The index-th simulated employee: a directory entry and a Telegram account."""
    uid = f"fault.user{index:03d}"
    person = Employee(
        uid=uid,
        given_name="Fault",
        surname=f"User{index:03d}",
        display_name=f"Fault User{index:03d}",
        mail=f"{uid}@example.com",
        title="Tester",
        department="QA",
        phone=None,
    )
    user = User(
        id=FIRST_TELEGRAM_ID + index,
        first_name="Fault",
        last_name=f"User{index:03d}",
        username=f"fault_user{index:03d}",
        language_code="en",
    )
    return person, user


class ProxiedSandbox(Sandbox):
    """The sandbox with the services' broker URL pointing at the proxy."""

    def __init__(self, config: SandboxConfig, proxy: TcpProxy) -> None:
        super().__init__(config)
        self.proxy = proxy

    @property
    def rabbit_url(self) -> str:
        direct = self.vhost.url
        return direct.replace(f"@{RABBIT_HOST}:{RABBIT_PORT}/", f"@127.0.0.1:{self.proxy.port}/")

    @property
    def direct_rabbit_url(self) -> str:
        """The vhost on the real broker, bypassing the proxy (the test's own connections)."""
        return self.vhost.url


@dataclass(frozen=True)
class Person:
    employee: Employee
    user: User


class FaultStack:
    """The sandbox, the proxy and the people; start() and stop() are blocking."""

    def __init__(
        self, workdir: Path, *, people: int, pace: float = 0.5, mongo_sqlite: bool = True
    ) -> None:
        self.workdir = workdir
        self.proxy = TcpProxy(RABBIT_HOST, RABBIT_PORT)
        self.people = [Person(*employee(i)) for i in range(people)]
        self.config = SandboxConfig(
            workdir=workdir,
            pace=pace,
            inbox_poll_seconds=0.5,
            imsim_questions=False,  # the scripted employees never answer a question
            webchat=False,
            mongo_url=None,
            mongo_sqlite=mongo_sqlite,
            service_env=SERVICE_ENV,
            start_timeout=START_TIMEOUT,
        )
        self.sandbox = ProxiedSandbox(self.config, self.proxy)

    def start(self) -> None:
        self.proxy.start()
        try:
            self.sandbox.start()
            assert self.sandbox.slapd is not None
            for person in self.people:
                self.sandbox.slapd.add_employee(person.employee)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        try:
            self.sandbox.stop()
        finally:
            self.proxy.stop()

    # -- services --------------------------------------------------------------------------------

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown code runs, in-flight work is cut wherever it was."""
        self.sandbox.services[name].process.stop(sig=signal.SIGKILL)

    def start_service(self, name: str) -> None:
        """Start a (killed) service again and wait for its "started" line."""
        service = self.sandbox.services[name]
        mark = len(service.log_lines())
        service.start(wait=False)
        deadline = time.monotonic() + START_TIMEOUT
        while not any(line.get("message") == "started" for line in service.log_lines()[mark:]):
            if not service.process.running():
                raise RuntimeError(f"{name} exited:\n{service.process.log_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} did not start again")
            time.sleep(0.1)

    def ready(self, name: str) -> tuple[bool, dict[str, object]]:
        """The service's /ready answer: (ready, details)."""
        url = self.sandbox.services[name].http_base + "/ready"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
                return True, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return False, json.loads(error.read() or b"{}")
        except OSError as error:
            return False, {"error": str(error)}

    def wait_ready(self, names: list[str] | None = None, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        for name in names or list(self.sandbox.services):
            while not (answer := self.ready(name))[0]:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} not ready after {timeout}s: {answer[1]}")
                time.sleep(0.2)

    def crashed(self) -> list[str]:
        down = self.sandbox.crashed()
        if self.sandbox.mongo is not None and not self.sandbox.mongo.process.running():
            down.append("mongoeco")
        if not self.proxy.is_open:
            down.append("rabbitmq proxy")
        return down

    def repair(self) -> None:
        """Bring back whatever a test left stopped (after a failure half-way through it)."""
        self.proxy.restore()
        sandbox = self.sandbox
        if sandbox.mongo is not None and not sandbox.mongo.process.running():
            sandbox.mongo.start()
        if sandbox.smtp is not None and not sandbox.smtp.running():
            sandbox.smtp.start()
        if sandbox.dovecot is not None and not sandbox.dovecot.running():
            sandbox.dovecot.start()
        for name, service in sandbox.services.items():
            if not service.process.running():
                self.start_service(name)
