"""Reading the deployment files: workspace members, service settings, .env.example, compose."""

from __future__ import annotations

import importlib
import inspect
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import yaml
from helpdesk_harness.services import SERVICES
from pydantic_settings import BaseSettings

from tests.support import REPO_ROOT

ENV_EXAMPLE = REPO_ROOT / ".env.example"
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
SECRETS_EXAMPLE = REPO_ROOT / "deploy" / "secrets.example"

_ASSIGNMENT = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    path: Path  # relative to the repository root

    @property
    def scripts(self) -> dict[str, str]:
        data = tomllib.loads((REPO_ROOT / self.path / "pyproject.toml").read_text())
        scripts: dict[str, str] = data["project"].get("scripts", {})
        return scripts


def workspace_members() -> list[Member]:
    """Every uv workspace member, from the root pyproject's member globs."""
    root = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    members = []
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        for directory in sorted(REPO_ROOT.glob(pattern)):
            manifest = directory / "pyproject.toml"
            if manifest.is_file():
                name = tomllib.loads(manifest.read_text())["project"]["name"]
                members.append(Member(name, directory.relative_to(REPO_ROOT)))
    return members


def service_settings(service: str) -> type[BaseSettings]:
    """The one BaseSettings class a service's settings module defines."""
    module = importlib.import_module(f"helpdesk_{service}.settings")
    classes = [
        value
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, BaseSettings)
        and value.__module__ == module.__name__
    ]
    assert len(classes) == 1, f"{module.__name__} defines {classes}"
    return classes[0]


def all_service_settings() -> dict[str, type[BaseSettings]]:
    return {service: service_settings(service) for service in SERVICES}


@dataclass(frozen=True, slots=True)
class EnvExample:
    active: dict[str, str]  # uncommented assignments
    documented: set[str]  # every name, commented out or not


def read_env_example(path: Path = ENV_EXAMPLE) -> EnvExample:
    active: dict[str, str] = {}
    documented: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _ASSIGNMENT.match(line.strip())
        if match is None:
            continue
        commented, name, value = match.groups()
        documented.add(name)
        if not commented:
            assert name not in active, f"{name} is set twice in {path.name}"
            active[name] = value
    return EnvExample(active, documented)


def compose_variables(text: str) -> set[str]:
    """Names interpolated into a compose file (`${NAME}`, `${NAME:-x}`, `${NAME:?msg}`)."""
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))


def compose_secrets(service: str) -> dict[str, str]:
    """The secrets compose mounts into `service`: environment variable -> its dev value.

    A secret mounted at /run/secrets/<target> is read as the variable TARGET; the dev value is
    the file of the same source name in deploy/secrets.example.
    """
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    files = compose.get("secrets", {})
    mounted: dict[str, str] = {}
    for entry in compose["services"][service].get("secrets", []):
        source, target = (
            (entry, entry) if isinstance(entry, str) else (entry["source"], entry["target"])
        )
        path = files[source]["file"]
        assert path == f"${{HELPDESK_SECRETS_DIR:-./secrets}}/{source}", path
        mounted[target.upper()] = (SECRETS_EXAMPLE / source).read_text().strip()
    return mounted
