"""The files ops deploy with agree with the code: .env.example, Dockerfiles, .dockerignore.

Settings classes grow while the services evolve; these tests fail the moment a new variable is
not documented, a documented one no longer exists, or the dev defaults stop validating.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from helpdesk_admin.cli import app as admin_app
from helpdesk_admin.permissions import SERVICES as SERVICE_PERMISSIONS
from helpdesk_admin.permissions import definitions
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


DEFINITIONS = REPO_ROOT / "deploy" / "rabbitmq" / "definitions.json"
MONGO_USERS = REPO_ROOT / "deploy" / "mongo" / "initdb" / "10-helpdesk-users.js"


def test_the_broker_definitions_are_what_helpdesk_admin_prints() -> None:
    assert json.loads(DEFINITIONS.read_text()) == definitions()


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_connects_with_its_own_accounts(
    service: str, example_env: dict[str, str]
) -> None:
    """Compose gives each service the broker and database account made for it, and no other.

    The URLs are the service's secret files (deploy/secrets.example/<service>_rabbit_url and
    _mongo_url); their dev passwords are the ones .env.example gives the broker and MongoDB.
    """
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    environment = compose["services"][service]["environment"]
    secrets = compose_secrets(service)
    user = f"helpdesk-{service}"
    broker_secrets = compose_secrets("rabbitmq")
    database_secrets = compose_secrets("mongodb")
    rabbit_password = broker_secrets[f"RABBIT_PASSWORD_HELPDESK_{service.upper()}"]
    mongo_password = database_secrets[f"MONGO_PASSWORD_{service.upper()}"]
    assert secrets["HELPDESK_RABBIT_URL"] == f"amqp://{user}:{rabbit_password}@rabbitmq:5672/"
    assert secrets["HELPDESK_MONGO_URL"].startswith(
        f"mongodb://{user}:{mongo_password}@mongodb:27017/"
    )
    assert environment["HELPDESK_DECLARE_TOPOLOGY"] == "own"
    broker = compose["services"]["rabbitmq"]["environment"]
    database = compose["services"]["mongodb"]["environment"]
    assert f"RABBIT_PASSWORD_HELPDESK_{service.upper()}_FILE" in broker
    assert f"MONGO_PASSWORD_{service.upper()}_FILE" in database
    # No account password reaches the services through .env (compose's env_file for all five).
    assert not [name for name in example_env if "PASSWORD" in name], example_env.keys()
    [permission] = [p for p in definitions()["permissions"] if p["user"] == user]
    assert permission["write"] == {str(c): p for c, p in SERVICE_PERMISSIONS.items()}[service].write
    assert f'"{service}"' in MONGO_USERS.read_text()


RENDER = REPO_ROOT / "deploy" / "rabbitmq" / "render-definitions.sh"


def _render(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(RENDER)],
        env={
            "PATH": os.environ["PATH"],
            "HELPDESK_DEFINITIONS_TEMPLATE": str(DEFINITIONS),
            "HELPDESK_DEFINITIONS_RENDERED": str(tmp_path / "rendered.json"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_broker_entrypoint_hashes_each_accounts_password_as_rabbitmq_does(
    tmp_path: Path,
) -> None:
    users = [user["name"] for user in definitions()["users"]]
    passwords = {user: f"pw-{index}-{user}" for index, user in enumerate(users)}
    env = {f"RABBIT_PASSWORD_{u.upper().replace('-', '_')}": pw for u, pw in passwords.items()}
    # One of them as a secret file, the way compose secrets arrive.
    first = f"RABBIT_PASSWORD_{users[0].upper().replace('-', '_')}"
    (tmp_path / "secret").write_text(passwords[users[0]] + "\n")
    env[f"{first}_FILE"] = str(tmp_path / "secret")
    del env[first]
    done = _render(tmp_path, env)
    assert done.returncode == 0, done.stderr
    rendered = json.loads((tmp_path / "rendered.json").read_text())
    assert (tmp_path / "rendered.json").stat().st_mode & 0o077 == 0
    for user in rendered["users"]:
        # rabbit_password_hashing_sha256: base64(salt[4] + sha256(salt + password))
        raw = base64.b64decode(user["password_hash"])
        salt, digest = raw[:4], raw[4:]
        assert digest == hashlib.sha256(salt + passwords[user["name"]].encode()).digest()
    assert all(pw not in done.stdout + done.stderr for pw in passwords.values())


def test_the_broker_does_not_start_with_an_account_without_password(tmp_path: Path) -> None:
    done = _render(tmp_path, {})
    assert done.returncode == 78
    assert "RABBIT_PASSWORD_HELPDESK_GATEWAY" in done.stderr
    assert not (tmp_path / "rendered.json").exists()
