"""The files ops deploy with agree with the code: .env.example, Dockerfiles, .dockerignore.

Settings classes grow while the services evolve; these tests fail the moment a new variable is
not documented, a documented one no longer exists, or the dev defaults stop validating.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from helpdesk_admin.cli import app as admin_app
from helpdesk_harness.services import SERVICES
from helpdesk_runtime.config import env_variables, settings_problems
from helpdesk_runtime.settings import InfraSettings
from pydantic_settings import BaseSettings
from typer.main import get_command

from tests.support import REPO_ROOT
from tests.unit.ops.deployment import (
    COMPOSE_FILE,
    all_service_settings,
    compose_secrets,
    compose_variables,
    read_env_example,
    workspace_members,
)


def _settings_variables() -> set[str]:
    names = {v.name for v in env_variables(InfraSettings)}
    for cls in all_service_settings().values():
        names |= {v.name for v in env_variables(cls)}
    return names


def _admin_variables() -> set[str]:
    command = get_command(admin_app)
    found: set[str] = set()
    for param in command.params:
        envvar = getattr(param, "envvar", None)
        if isinstance(envvar, str):
            found.add(envvar)
    return found


def test_env_example_documents_every_setting_of_every_service() -> None:
    documented = read_env_example().documented
    missing = sorted(_settings_variables() - documented)
    assert not missing, f".env.example lacks {missing}"


def test_env_example_documents_nothing_that_does_not_exist() -> None:
    known = _settings_variables() | compose_variables(COMPOSE_FILE.read_text()) | _admin_variables()
    unknown = sorted(read_env_example().documented - known)
    assert not unknown, f".env.example names variables nothing reads: {unknown}"


def test_compose_interpolates_only_documented_variables() -> None:
    undocumented = compose_variables(COMPOSE_FILE.read_text()) - read_env_example().documented
    assert not undocumented


@pytest.fixture
def example_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The process environment a container gets from `env_file: .env` (a copy of the example)."""
    prefixes = ("HELPDESK_", "GATEWAY_", "AUTH_", "MAILER_", "INBOX_", "JANITOR_")
    for name in list(os.environ):
        if name.startswith(prefixes):
            monkeypatch.delenv(name)
    active = read_env_example().active
    for name, value in active.items():
        monkeypatch.setenv(name, value)
    return active


def _secret_variables(cls: type[BaseSettings]) -> set[str]:
    return {v.name for v in env_variables(cls) if v.secret}


@pytest.mark.parametrize("service", SERVICES)
def test_the_dev_values_start_every_service_but_the_bot_token(
    service: str, example_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """.env plus the service's own dev secret files (read like /run/secrets) validate."""
    for name, value in compose_secrets(service).items():
        monkeypatch.setenv(name, value)
    settings, problems = settings_problems(all_service_settings()[service])
    expected = (
        ["GATEWAY_BOT_TOKEN: still a placeholder value; set the real one"]
        if service == "gateway"
        else []
    )
    assert problems == expected
    assert settings is not None


def test_the_shared_env_file_holds_no_secret_of_any_service() -> None:
    """compose hands .env to all five services: a secret there would reach every one."""
    secrets = set().union(*(_secret_variables(cls) for cls in all_service_settings().values()))
    assert "HELPDESK_RABBIT_URL" in secrets and "AUTH_CODE_PEPPER" in secrets
    assert not secrets & set(read_env_example().active)


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_gets_only_its_own_secrets(service: str) -> None:
    cls = all_service_settings()[service]
    own = _secret_variables(cls)
    mounted = set(compose_secrets(service))
    assert mounted <= own, f"{service} gets secrets it does not read: {mounted - own}"
    required = {v.name for v in env_variables(cls) if v.secret and v.required}
    shared = {"HELPDESK_RABBIT_URL", "HELPDESK_MONGO_URL"}  # each service its own account
    assert required | shared <= mounted
    # The broker and database URLs are per service: no two services share a secret file.
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    sources = {entry["source"] for entry in compose["services"][service]["secrets"]}
    for other in SERVICES:
        if other != service:
            others = {entry["source"] for entry in compose["services"][other]["secrets"]}
            assert not sources & others


def test_the_dev_values_agree_with_the_dev_servers(example_env: dict[str, str]) -> None:
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    user, password = example_env["RABBITMQ_DEFAULT_USER"], example_env["RABBITMQ_DEFAULT_PASS"]
    for service in SERVICES:
        secrets = compose_secrets(service)
        assert secrets["HELPDESK_RABBIT_URL"].startswith(f"amqp://{user}:{password}@rabbitmq:")
        assert secrets["HELPDESK_MONGO_URL"].startswith("mongodb://mongodb:27017/")
    ldap = compose["services"]["openldap"]["environment"]
    readonly = f"cn={ldap['LDAP_READONLY_USER_USERNAME']},dc=example,dc=com"
    assert example_env["AUTH_LDAP_BIND_DN"] == readonly
    assert example_env["AUTH_LDAP_URL"] == "ldap://openldap:389"
    bind_password = compose_secrets("auth")["AUTH_LDAP_BIND_PASSWORD"]
    assert (
        ldap["LDAP_READONLY_USER_PASSWORD"] == f"${{DEV_LDAP_READONLY_PASSWORD:-{bind_password}}}"
    )
    greenmail = compose["services"]["greenmail"]["environment"]["GREENMAIL_OPTS"]
    mailbox = re.search(
        r"-Dgreenmail\.users=(\w+):\$\{DEV_POP3_PASSWORD:-([^}]*)\}@([\w.]+)", greenmail
    )
    assert mailbox is not None
    assert example_env["INBOX_POP3_USER"] == f"{mailbox[1]}@{mailbox[3]}"
    assert mailbox[2] == compose_secrets("inbox")["INBOX_POP3_PASSWORD"]
    assert "-Dgreenmail.users.login=email" in greenmail


DOCKERFILE = REPO_ROOT / "Dockerfile"


def _dockerfile() -> str:
    return DOCKERFILE.read_text()


def test_one_dockerfile_builds_each_service_from_the_service_argument() -> None:
    text = _dockerfile()
    # No `# syntax=` line: it makes BuildKit fetch a frontend image from Docker Hub, which
    # machines without the registry cannot do, and nothing here needs it.
    assert not re.search(r"^#\s*syntax=", text, re.M | re.I)
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.13-slim$", text, re.M)
    stages = re.findall(r"^FROM \$\{PYTHON_IMAGE\} AS (\w+)$", text, re.M)
    assert stages == ["manifests", "build", "runtime"]
    # Only the five services are accepted as SERVICE, and each has its console script.
    accepted = re.search(r'case "\$\{SERVICE\}" in ([\w|]+)\)', text)
    assert accepted is not None and accepted[1].split("|") == list(SERVICES)
    members = {m.name: m for m in workspace_members()}
    for service in SERVICES:
        assert f"helpdesk-{service}" in members[f"helpdesk-{service}"].scripts
    syncs = re.findall(r"^RUN uv sync (.+?)(?: \\|$)", text, re.M)
    assert syncs == [
        '--frozen --no-dev --package "helpdesk-${SERVICE}" --no-install-workspace',
        '--frozen --no-dev --package "helpdesk-${SERVICE}" --no-editable',
    ]
    # The interpreter is the base image's, found by uv, not a path written here.
    assert "UV_PYTHON=" not in text and "UV_PYTHON_PREFERENCE=only-system" in text
    # The final stage: only the venv, a non-root user, the health check, the console script.
    final = text[text.rindex("FROM ") :]
    assert re.findall(r"^COPY .*$", final, re.M) == ["COPY --from=build /app/.venv /app/.venv"]
    user = re.findall(r"^USER (\S+)$", final, re.M)
    assert user and user[-1].split(":")[0] not in {"root", "0"}
    assert re.search(r"^HEALTHCHECK .*\n?.*urllib\.request\.urlopen\(.*/ready", final, re.M)
    assert 'ln -s "helpdesk-${SERVICE}" /app/.venv/bin/helpdesk-service' in text
    assert final.rstrip().endswith('CMD ["helpdesk-service"]')


def test_no_secret_is_baked_into_an_image() -> None:
    secretish = re.compile(r"(PASSWORD|PASS|TOKEN|PEPPER|SECRET|_KEY)\b", re.I)
    for line in _dockerfile().splitlines():
        if re.match(r"^\s*(ENV|ARG)\b", line) or re.match(r"^\s+[A-Z_]+=", line):
            assert not secretish.search(line), line
    assert not re.search(r"(^|\s)\S*\.env(\.\S+)?(\s|$)", re.sub(r"#.*", "", _dockerfile()))


def test_the_manifests_stage_keeps_every_members_pyproject_and_the_lock(tmp_path: Path) -> None:
    """uv resolves one member only with every member's manifest; a new member needs no edit."""
    run = re.search(r"^FROM .* AS manifests\n(?:.*\n)*?RUN ((?:.*\\\n)*.*)$", _dockerfile(), re.M)
    assert run is not None
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in tracked:
        if (REPO_ROOT / name).is_file():
            target = tmp_path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(REPO_ROOT / name, target)
    subprocess.run(["sh", "-c", run[1]], cwd=tmp_path, check=True)
    kept = {str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_file()}
    expected = {f"{member.path}/pyproject.toml" for member in workspace_members()}
    assert expected | {"pyproject.toml", "uv.lock"} <= kept
    assert {Path(name).name for name in kept} == {"pyproject.toml", "uv.lock"}


def test_dockerignore_keeps_secrets_and_clutter_out_of_the_context() -> None:
    ignored = {
        line.strip()
        for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".env", ".env.*", "**/.git", "**/.venv", "tests"} <= ignored
    # ...but nothing an image needs.
    for needed in ("contracts", "services", "tools", "uv.lock", "pyproject.toml"):
        assert needed not in ignored
