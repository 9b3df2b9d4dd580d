"""`helpdesk-admin keygen` and the CLI's refusal to publish an unsigned command."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from helpdesk_admin.cli import app
from helpdesk_runtime import signing
from typer.testing import CliRunner


@pytest.fixture(autouse=True)
def _no_key_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HELPDESK_ADMIN_KEY_FILE", raising=False)
    monkeypatch.delenv("HELPDESK_ADMIN_KEY_NAME", raising=False)


def test_keygen_writes_a_private_key_only_its_owner_reads_and_prints_the_public_line(
    tmp_path: Path,
) -> None:
    out = tmp_path / "keys"
    result = CliRunner().invoke(app, ["keygen", "ivanov", "--out", str(out)])
    assert result.exit_code == 0, result.output
    key_file = out / "ivanov.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = signing.load_private_key(key_file)
    assert result.stdout == f"ivanov={signing.public_key_text(key)}\n"
    # The line is exactly what services take in HELPDESK_ADMIN_PUBLIC_KEYS.
    assert signing.parse_public_keys(result.stdout) == {"ivanov": signing.public_key_text(key)}


def test_keygen_never_overwrites_a_key(tmp_path: Path) -> None:
    assert CliRunner().invoke(app, ["keygen", "ivanov", "--out", str(tmp_path)]).exit_code == 0
    before = (tmp_path / "ivanov.key").read_bytes()
    again = CliRunner().invoke(app, ["keygen", "ivanov", "--out", str(tmp_path)])
    assert again.exit_code == 2
    assert "exists" in again.stderr
    assert (tmp_path / "ivanov.key").read_bytes() == before


def test_keygen_refuses_a_name_services_could_not_know(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["keygen", "../ivanov", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_a_command_without_a_signing_key_is_not_published() -> None:
    # Port 9: nothing listens; the CLI must stop before it even tries to connect.
    result = CliRunner().invoke(
        app, ["--rabbit-url", "amqp://guest:guest@127.0.0.1:9/", "run-janitor"]
    )
    assert result.exit_code == 2
    assert "no signing key: set HELPDESK_ADMIN_KEY_FILE" in result.stderr
