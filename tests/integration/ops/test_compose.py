"""docker-compose.yml is valid for Docker Compose and builds every service from the one Dockerfile.

`docker-compose config` (Debian's docker-compose, installed by .ci/run) validates the file
against the Compose schema and resolves it with .env.example as `.env`, in a scratch copy so the
checkout's own .env is neither needed nor read. No Docker engine is involved.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpdesk_harness.ldap_server import DEMO_EMPLOYEES, employee_attributes
from helpdesk_harness.services import SERVICES

from tests.support import REPO_ROOT
from tests.unit.ops.deployment import COMPOSE_FILE, ENV_EXAMPLE, workspace_members

pytestmark = pytest.mark.integration

LDIF = REPO_ROOT / "deploy" / "dev" / "ldap" / "50-employees.ldif"


def _compose(workdir: Path, *args: str) -> str:
    exe = shutil.which("docker-compose")
    assert exe is not None, "docker-compose is missing: apt-get install docker-compose (.ci/run)"
    done = subprocess.run(
        [exe, *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(workdir)},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(COMPOSE_FILE, tmp_path / "docker-compose.yml")
    shutil.copy(ENV_EXAMPLE, tmp_path / ".env")
    return tmp_path


def _resolved(project: Path, *profiles: str) -> dict[str, Any]:
    flags = [arg for profile in profiles for arg in ("--profile", profile)]
    _compose(project, *flags, "config", "-q")
    config: dict[str, Any] = yaml.safe_load(_compose(project, *flags, "config"))
    return config


def test_compose_config_is_valid_with_and_without_the_dev_profile(project: Path) -> None:
    _resolved(project)
    dev = _resolved(project, "dev")
    infrastructure = {"rabbitmq", "mongodb"}
    assert set(dev["services"]) == {*SERVICES, *infrastructure, "openldap", "greenmail"}
    # What `up` starts is decided by `profiles` (Compose 1.29 prints every service anyway).
    profiles = {name: service.get("profiles", []) for name, service in dev["services"].items()}
    assert profiles == {
        **{name: [] for name in (*SERVICES, *infrastructure)},
        "openldap": ["dev"],
        "greenmail": ["dev"],
    }


def test_every_service_builds_from_the_one_dockerfile(project: Path) -> None:
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    resolved = _resolved(project, "dev")
    members = {member.name for member in workspace_members()}
    built = {name for name, service in raw["services"].items() if "build" in service}
    assert built == set(SERVICES)
    for name in sorted(built):
        build = raw["services"][name]["build"]
        assert build["context"] == "."  # the workspace root: uv needs every member's manifest
        assert build["dockerfile"] == "Dockerfile"
        assert build["args"] == {"SERVICE": name}
        assert f"helpdesk-{name}" in members
        assert raw["services"][name]["image"] == f"helpdesk-{name}:${{HELPDESK_IMAGE_TAG:-local}}"
        service = resolved["services"][name]
        conditions = {dep: spec["condition"] for dep, spec in service["depends_on"].items()}
        assert conditions == {"rabbitmq": "service_healthy", "mongodb": "service_healthy"}
        environment = service["environment"]
        assert environment["HELPDESK_HTTP_PORT"] == "8080"
        assert environment["HELPDESK_HTTP_HOST"] == "0.0.0.0"  # noqa: S104 - container port
        # Broker and database URLs carry credentials: a secret file per service, not .env.
        assert "HELPDESK_RABBIT_URL" not in environment
        assert "HELPDESK_MONGO_URL" not in environment
        targets = {secret["target"] for secret in service["secrets"]}
        assert {"helpdesk_rabbit_url", "helpdesk_mongo_url"} <= targets
        assert service["read_only"] is True
        assert "ALL" in service["cap_drop"]
    for infrastructure in ("rabbitmq", "mongodb"):
        assert "healthcheck" in resolved["services"][infrastructure]


def _parse_ldif(text: str) -> dict[str, dict[str, list[str]]]:
    entries: dict[str, dict[str, list[str]]] = {}
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if line and not line.startswith("#")]
        if not lines:
            continue
        attrs: dict[str, list[str]] = {}
        for line in lines:
            name, _, rest = line.partition(":")
            value = base64.b64decode(rest[2:]).decode() if rest.startswith(": ") else rest.strip()
            attrs.setdefault(name, []).append(value)
        dn = attrs.pop("dn")[0]
        entries[dn] = attrs
    return entries


def test_the_dev_directory_holds_the_demo_employees() -> None:
    entries = _parse_ldif(LDIF.read_text(encoding="utf-8"))
    people = {dn: attrs for dn, attrs in entries.items() if dn.startswith("uid=")}
    expected = {}
    for employee in DEMO_EMPLOYEES:
        attrs = employee_attributes(employee)
        attrs.pop("userPassword")  # the dev directory has no employee passwords
        expected[f"uid={employee.uid},ou=people,dc=example,dc=com"] = attrs
    assert people == expected


def test_slapd_accepts_the_dev_directory(tmp_path: Path) -> None:
    """A dry-run load into a slapd with the schemas osixia/openldap ships (inetOrgPerson)."""
    slapadd = shutil.which("slapadd") or "/usr/sbin/slapadd"
    modules = next(
        (d for d in ("/usr/lib/ldap", "/usr/lib/x86_64-linux-gnu/ldap") if Path(d).is_dir()), None
    )
    (tmp_path / "db").mkdir()
    config = [
        f"include /etc/ldap/schema/{name}.schema"
        for name in ("core", "cosine", "nis", "inetorgperson")
    ]
    if modules is not None and Path(modules, "back_mdb.so").exists():
        config += [f"modulepath {modules}", "moduleload back_mdb"]
    config += ["database mdb", 'suffix "dc=example,dc=com"', f"directory {tmp_path / 'db'}"]
    (tmp_path / "slapd.conf").write_text("\n".join(config) + "\n")
    # The image creates the base entry itself from LDAP_DOMAIN; the dry run needs it first.
    base = (
        "dn: dc=example,dc=com\nobjectClass: top\nobjectClass: dcObject\n"
        "objectClass: organization\ndc: example\no: Example\n\n"
    )
    (tmp_path / "seed.ldif").write_text(base + LDIF.read_text(encoding="utf-8"), "utf-8")
    done = subprocess.run(
        [slapadd, "-u", "-f", str(tmp_path / "slapd.conf"), "-l", str(tmp_path / "seed.ldif")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
