"""`make images-smoke`: the five images run as containers against real servers, as ops would.

Starts the servers the services need, as the sandbox does (a fresh vhost on the machine's
RabbitMQ on 127.0.0.1:5672 -- TEST_RABBIT_PORT and TEST_RABBIT_MANAGEMENT_URL point it at another,
as for the tests -- the mongoeco wire server, slapd with the demo employees, Dovecot,
the SMTP sink, the fake Telegram Bot API and the InfraManager simulator), then runs
`helpdesk-<service>:<tag>` for all five with host networking, each with only its own settings
and, as compose does, its own secrets as files in /run/secrets, with the compose hardening
(read-only root, /tmp tmpfs, no capabilities). It checks that

- every image keeps its HEALTHCHECK, and every container becomes ready and serves /health,
  /ready and /metrics;
- a demo employee signs in (code email: auth -> mailer -> SMTP sink) and files a ticket with
  two photos, whose email leaves the mailer container for the SMTP sink, and InfraManager's
  answer comes back through the inbox container as "registered" in the chat;
- SIGTERM stops each container within its graceful timeout with exit status 0;
- everything each container wrote is JSON lines, also when it cannot start (MongoDB down:
  exit 1; a placeholder setting: exit 78);

and prints the image sizes, start and stop times (docs/operations.md quotes them). Exit status
0 when all holds, 1 otherwise; each container's log is kept in the work directory with --keep.
Run from the repository root after `make images`:

    uv run python -m deploy.images.smoke [--tag local] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpdesk_gateway.i18n import I18n, Texts
from helpdesk_harness.fake_telegram import ChatMessage
from helpdesk_harness.procs import free_port
from helpdesk_harness.services import SERVICES
from helpdesk_harness.spool import SpooledMail
from helpdesk_runtime.config import env_variables
from helpdesk_sandbox.demo import person
from helpdesk_sandbox.imsim import FIRST_NUMBER
from helpdesk_sandbox.stack import Sandbox, SandboxConfig, SandboxError
from PIL import Image
from pydantic_settings import BaseSettings

REPO_ROOT = Path(__file__).resolve().parents[2]
ENGINE_SH = REPO_ROOT / "deploy" / "images" / "engine.sh"
GRACEFUL_SECONDS = 10.0
READY_TIMEOUT = 120.0  # importing aiogram alone takes 20 s on a busy 2-core machine
WAIT = 60.0
T: Texts = I18n.load().texts("ru")
EMPLOYEE = person("maria.ivanova")


class SmokeError(AssertionError):
    """Something an operator would see go wrong."""


@dataclass
class Engine:
    """docker or podman, with the flags engine.sh chooses for this machine."""

    argv: list[str]
    run_flags: list[str]

    @classmethod
    def detect(cls) -> Engine:
        script = f'. "{ENGINE_SH}"; echo "$ENGINE"; echo "${{ULIMIT_FLAGS[*]}}"'
        done = subprocess.run(
            ["bash", "-c", script], capture_output=True, text=True, check=False, timeout=60
        )
        if done.returncode != 0:
            raise SmokeError(f"no container engine: {done.stderr.strip()}")
        engine, ulimits = done.stdout.splitlines()
        argv = [shutil.which(engine) or engine]
        if engine == "podman":
            runc = shutil.which("runc")
            argv += [*(["--runtime", runc] if runc else []), "--cgroup-manager", "cgroupfs"]
        return cls(argv, ulimits.split())

    def __call__(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.argv, *args], capture_output=True, text=True, check=False, timeout=timeout
        )

    def must(self, *args: str, timeout: float = 120.0) -> str:
        done = self(*args, timeout=timeout)
        if done.returncode != 0:
            raise SmokeError(f"{' '.join(args[:2])} failed: {done.stderr.strip()[-2000:]}")
        return done.stdout


@dataclass
class Container:
    service: str
    image: str
    env: dict[str, str]
    name: str
    http_port: int
    launched_at: float = 0.0
    ready_after: float = 0.0
    stopped_after: float = 0.0
    exit_code: int | None = None
    log: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


def http_get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 - our own URL
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


def write_env_file(path: Path, env: dict[str, str]) -> Path:
    """The container's settings (no secret: those go to secret files)."""
    path.write_text("".join(f"{key}={value}\n" for key, value in sorted(env.items())))
    path.chmod(0o600)
    return path


def secret_variables(service: str) -> set[str]:
    """The variables the service's settings mark secret (SecretStr), shared ones included."""
    module = importlib.import_module(f"helpdesk_{service}.settings")
    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, BaseSettings)
        and value.__module__ == module.__name__
    ]
    return {v.name for cls in classes for v in env_variables(cls) if v.secret}


def split_secrets(service: str, env: dict[str, str], directory: Path) -> dict[str, str]:
    """Write the service's secrets as compose does (/run/secrets/<variable in lower case>, with
    a trailing newline like an edited file) and return the settings without them."""
    directory.mkdir(mode=0o755)
    secret = secret_variables(service)
    for name in sorted(secret & set(env)):
        path = directory / name.lower()
        path.write_text(env[name] + "\n")
        path.chmod(0o444)  # the service runs as uid 10001
    return {name: value for name, value in env.items() if name not in secret}


def run_detached(engine: Engine, container: Container, workdir: Path) -> None:
    secrets = workdir / f"{container.name}.secrets"
    settings = split_secrets(container.service, container.env, secrets)
    env_file = write_env_file(workdir / f"{container.name}.env", settings)
    container.launched_at = time.monotonic()
    engine.must(
        "run", "--detach", "--name", container.name, "--network", "host",
        "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL",  # noqa: S108 - in the container
        "--security-opt", "no-new-privileges", *engine.run_flags,
        "--env-file", str(env_file), "--volume", f"{secrets}:/run/secrets:ro", container.image,
    )  # fmt: skip


def wait_ready(engine: Engine, container: Container) -> None:
    deadline = container.launched_at + READY_TIMEOUT
    while True:
        status, _ = http_get(container.base + "/ready", timeout=2.0)
        if status == 200:
            container.ready_after = time.monotonic() - container.launched_at
            return
        state = engine("inspect", "--format", "{{.State.Running}}", container.name).stdout
        if state.strip() == "false":
            raise SmokeError(f"{container.service} exited before ready:\n{logs(engine, container)}")
        if time.monotonic() > deadline:
            raise SmokeError(f"{container.service} not ready in {READY_TIMEOUT:.0f} s")
        time.sleep(0.25)


def check_endpoints(container: Container) -> None:
    for path in ("/health", "/ready", "/metrics"):
        status, body = http_get(container.base + path)
        if status != 200:
            raise SmokeError(f"{container.service} {path}: HTTP {status} {body[:200]}")
    _, metrics = http_get(container.base + "/metrics")
    if "# TYPE helpdesk_messages_published_total counter" not in metrics:
        raise SmokeError(f"{container.service} /metrics lacks helpdesk_messages_published_total")


def logs(engine: Engine, container: Container) -> str:
    done = engine("logs", container.name)
    return done.stdout + done.stderr


def json_lines_only(service: str, text: str) -> list[dict[str, Any]]:
    """Every line the container wrote, parsed; raise on the first one that is not JSON."""
    parsed = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise SmokeError(f"{service} log line {number} is not JSON: {line[:200]!r}") from None
        if not isinstance(record, dict) or "level" not in record or "message" not in record:
            raise SmokeError(f"{service} log line {number} is not a log record: {line[:200]!r}")
        parsed.append(record)
    return parsed


def stop(engine: Engine, container: Container, log_dir: Path) -> None:
    """SIGTERM, then wait: it must exit 0 within the graceful timeout."""
    started = time.monotonic()
    engine.must("kill", "--signal", "TERM", container.name)
    code = engine.must("wait", container.name, timeout=GRACEFUL_SECONDS + 60).strip()
    container.stopped_after = time.monotonic() - started
    container.exit_code = int(code.splitlines()[-1])
    text = logs(engine, container)
    (log_dir / f"{container.service}.log").write_text(text)
    container.log = text.splitlines()


# -- the employee's part ---------------------------------------------------------------------


def picture(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


async def journey(sandbox: Sandbox, helpdesk_address: str) -> str:
    """Sign in, file a ticket with two photos, see it registered; returns its reference."""
    async with sandbox.telegram_client() as tg:
        user = EMPLOYEE.telegram

        async def sees(predicate: Callable[[ChatMessage], bool], **kw: Any) -> ChatMessage:
            return await tg.wait_for_bot_message(user.id, predicate, timeout=WAIT, **kw)

        def starts(key: str) -> Callable[[ChatMessage], bool]:
            start = T(key).split("{", 1)[0]
            return lambda m: m.visible_text.startswith(start)

        def press(message: ChatMessage, caption: str) -> Any:
            return tg.press_button(user, message.message_id, message.callback_data(caption))

        await tg.send_command(user, "start")
        await sees(lambda m: m.visible_text == T("sign-in-welcome"))
        await tg.send_text(user, EMPLOYEE.email)
        await sees(starts("sign-in-code-sent"))
        mails = await sandbox.spool.wait_for(lambda m: m.is_to(EMPLOYEE.email), timeout=WAIT)
        code = mails[-1].code
        if code is None:
            raise SmokeError("the sign-in email carries no code")
        await tg.send_text(user, code)
        await sees(starts("sign-in-done"))

        await tg.send_text(user, T("menu-new-ticket"))
        question = await sees(lambda m: m.visible_text == T("wizard-choose-category"))
        await press(question, "Принтеры и МФУ")
        sub = await tg.wait_for_edit(
            user.id, question.message_id, lambda m: "Не печатает" in m.button_texts, timeout=WAIT
        )
        await press(sub, "Не печатает")
        await sees(starts("wizard-ask-description"))
        await tg.send_text(user, "Smoke test: printer in 301 does not print")
        await sees(lambda m: m.visible_text == T("wizard-ask-location"))
        await tg.send_text(user, "Room 301")
        await sees(starts("wizard-ask-photos"))
        await tg.send_album(
            user, [picture((640, 480), (200, 30, 30)), picture((320, 240), (0, 0, 0))]
        )
        progress = await sees(starts("photo-progress-start"))
        saved = await tg.wait_for_edit(
            user.id,
            progress.message_id,
            lambda m: T("button-photos-done") in m.button_texts,
            timeout=WAIT,
        )
        await press(saved, T("button-photos-done"))
        preview = await sees(starts("wizard-preview"))
        await press(preview, T("button-send"))
        accepted = await sees(starts("ticket-submitted"))
        found = re.search(r"TG-[0-9A-Z]{6}", accepted.visible_text)
        if found is None:
            raise SmokeError(f"no ticket reference in {accepted.visible_text!r}")
        reference = found.group(0)

        def is_ticket(mail: SpooledMail) -> bool:
            return mail.is_to(helpdesk_address) and reference in mail.subject

        (ticket_mail,) = await sandbox.spool.wait_for(is_ticket, timeout=WAIT)
        photos = [a for a in ticket_mail.attachments if a.content_type == "image/jpeg"]
        if len(photos) != 2:
            raise SmokeError(f"the ticket email has {len(photos)} photos, not 2")
        label = T("ticket-label-number", reference=reference, number=FIRST_NUMBER)
        registered = T("notify-status-registered", ticket=label)
        await sees(lambda m: m.visible_text == registered)
        return reference


def published(metrics: str, routing_key: str) -> float:
    pattern = (
        rf'^helpdesk_messages_published_total\{{routing_key="{re.escape(routing_key)}"\}} (\S+)$'
    )
    found = re.search(pattern, metrics, re.M)
    return float(found.group(1)) if found else 0.0


# -- start-up failures -----------------------------------------------------------------------


def failing_start(
    engine: Engine, image: str, service: str, env: dict[str, str], workdir: Path, name: str
) -> tuple[int, list[dict[str, Any]]]:
    """Run a container that must not start; its exit status and its log lines (all JSON)."""
    env_file = write_env_file(workdir / f"{name}.env", env)
    try:
        done = engine(
            "run", "--name", name, "--network", "host", "--read-only", "--cap-drop", "ALL",
            *engine.run_flags, "--env-file", str(env_file), image,
            timeout=READY_TIMEOUT,
        )  # fmt: skip
        text = engine.must("logs", name) + engine("logs", name).stderr
    finally:
        engine("rm", "--force", name)
    return done.returncode, json_lines_only(service, text)


def check_start_up_failures(
    engine: Engine, images: dict[str, str], sandbox: Sandbox, workdir: Path
) -> str:
    """MongoDB down: one critical JSON line, exit 1. A placeholder setting: exit 78."""
    env = sandbox.service_env("mailer")
    env.update(
        HELPDESK_MONGO_URL=f"mongodb://127.0.0.1:{free_port()}/",
        HELPDESK_MONGO_TIMEOUT_MS="1000",
        HELPDESK_HTTP_PORT="0",
    )
    code, lines = failing_start(
        engine, images["mailer"], "mailer", env, workdir, f"helpdesk-smoke-nomongo-{os.getpid()}"
    )
    last = lines[-1] if lines else {}
    if code != 1 or last.get("level") != "critical" or "exc" not in last:
        raise SmokeError(f"mailer without MongoDB: exit {code}, last line {last}")
    env = sandbox.service_env("gateway")
    placeholder = "<bot token from @BotFather>"  # as in .env.example
    env.update(GATEWAY_BOT_TOKEN=placeholder, HELPDESK_HTTP_PORT="0")
    code, lines = failing_start(
        engine, images["gateway"], "gateway", env, workdir, f"helpdesk-smoke-config-{os.getpid()}"
    )
    problems = lines[0].get("problems") if len(lines) == 1 else None
    if code != 78 or problems != ["GATEWAY_BOT_TOKEN: still a placeholder value; set the real one"]:
        raise SmokeError(f"gateway with a placeholder token: exit {code}, lines {lines}")
    return "start-up failures: MongoDB down -> exit 1, one critical JSON line; placeholder -> 78"


# -- the run ---------------------------------------------------------------------------------


def image_size(engine: Engine, image: str) -> int:
    return int(engine.must("image", "inspect", "--format", "{{.Size}}", image).strip())


def smoke(engine: Engine, images: dict[str, str], workdir: Path) -> str:
    helpdesk_address = "inframanager@example.com"
    config = SandboxConfig(
        workdir=workdir / "servers",
        services=(),  # the services are the containers below
        webchat=False,
        imsim_questions=False,
        pace=0.5,
        inbox_poll_seconds=1.0,
        helpdesk_address=helpdesk_address,
    )
    containers: dict[str, Container] = {}
    with Sandbox(config) as sandbox:
        try:
            for service in SERVICES:
                port = free_port()
                env = sandbox.service_env(service)
                env.update(
                    HELPDESK_HTTP_HOST="127.0.0.1",
                    HELPDESK_HTTP_PORT=str(port),
                    HELPDESK_GRACEFUL_TIMEOUT_SECONDS=str(GRACEFUL_SECONDS),
                )
                containers[service] = Container(
                    service, images[service], env, f"helpdesk-smoke-{service}-{os.getpid()}", port
                )
            # One after another: five interpreters importing at once on a small shared machine
            # can starve a connection handshake past its timeout, and the times measured are
            # each container's own.
            for container in containers.values():
                run_detached(engine, container, workdir)
                wait_ready(engine, container)
                check_endpoints(container)

            reference = asyncio.run(journey(sandbox, helpdesk_address))
            _, metrics = http_get(containers["mailer"].base + "/metrics")
            if published(metrics, "ticket.emailed.v1") < 1:
                raise SmokeError("the mailer's /metrics does not count the ticket email")

            for container in containers.values():
                stop(engine, container, workdir)
            for container in containers.values():
                records = json_lines_only(container.service, "\n".join(container.log))
                if container.exit_code != 0:
                    raise SmokeError(f"{container.service} exited {container.exit_code} on SIGTERM")
                if container.stopped_after > GRACEFUL_SECONDS:
                    raise SmokeError(
                        f"{container.service} took {container.stopped_after:.1f} s to stop"
                    )
                if not any(record["message"] == "stopped" for record in records):
                    raise SmokeError(f"{container.service} never logged 'stopped'")
                # A healthy run with every server up has nothing to complain about.
                errors = [r for r in records if r["level"] in {"error", "critical"}]
                if errors:
                    raise SmokeError(f"{container.service} logged errors: {errors[:3]}")
            failures = check_start_up_failures(engine, images, sandbox, workdir)
        finally:
            for container in containers.values():
                engine("rm", "--force", container.name)

    rows = [
        f"| helpdesk-{c.service} | {image_size(engine, c.image) / 1e6:.0f} MB"
        f" | {c.ready_after:.1f} s | {c.stopped_after:.1f} s |"
        for c in containers.values()
    ]
    return "\n".join(
        [
            "images-smoke: OK",
            f"ticket {reference}: gateway -> mailer -> SMTP sink, registered via the inbox",
            failures,
            "",
            "| image | size | ready after start | stopped after SIGTERM |",
            "|---|---|---|---|",
            *rows,
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--tag", default=os.environ.get("HELPDESK_IMAGE_TAG", "local"))
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = parser.parse_args(argv)
    try:
        engine = Engine.detect()
    except SmokeError as error:
        print(f"images-smoke: {error}", file=sys.stderr)
        return 1
    images: dict[str, str] = {service: f"helpdesk-{service}:{args.tag}" for service in SERVICES}
    for image in images.values():
        if engine("image", "inspect", image).returncode != 0:
            print(f"images-smoke: {image} is missing: make images", file=sys.stderr)
            return 1
        # podman's default OCI format drops HEALTHCHECK without a word (build.sh asks for the
        # docker format); an orchestrator would then never see the container unready.
        health = engine("image", "inspect", "--format", "{{json .Config.Healthcheck}}", image)
        if "/ready" not in health.stdout:
            print(f"images-smoke: {image} has no HEALTHCHECK on /ready", file=sys.stderr)
            return 1
    workdir = Path(tempfile.mkdtemp(prefix="helpdesk-images-smoke-"))
    try:
        report = smoke(engine, images, workdir)
    except (SmokeError, SandboxError) as error:  # a failed check, or a server that failed
        print(f"images-smoke: FAILED: {error}\n(work directory: {workdir})", file=sys.stderr)
        return 1
    print(report)
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
