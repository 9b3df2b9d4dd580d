"""The operator key tests sign admin commands with, as an operator's CLI does.

One Ed25519 key pair per test process, named `test-operator`. Services under test are given its
public half (`PUBLIC_KEYS`, or `env()` for processes); `sign` signs a command like
`helpdesk-admin` does; `key_file()` writes the private half for the CLI run as a process.
It lives in the harness because `services.infra_env` gives every service process its public half.
"""

from __future__ import annotations

import functools
import os
import tempfile
from datetime import datetime
from pathlib import Path

from helpdesk_contracts.base import AdminCommand
from helpdesk_runtime import signing
from helpdesk_runtime.audit import AdminGuard

KEY_NAME = "test-operator"
KEY = signing.generate_key()
PUBLIC_KEYS: dict[str, str] = {KEY_NAME: signing.public_key_text(KEY)}


def sign[C: AdminCommand](command: C) -> C:
    return signing.sign(command, key_name=KEY_NAME, key=KEY)


def env() -> dict[str, str]:
    """The setting that makes a service trust the test operator."""
    return {"HELPDESK_ADMIN_PUBLIC_KEYS": f"{KEY_NAME}={PUBLIC_KEYS[KEY_NAME]}"}


@functools.cache
def key_file() -> Path:
    """The private key as a PEM file named `test-operator.key` (removed at exit by the OS tmp)."""
    directory = Path(tempfile.mkdtemp(prefix="helpdesk-test-key-"))
    path = directory / f"{KEY_NAME}.key"
    path.write_bytes(signing.private_key_pem(KEY))
    os.chmod(path, 0o600)
    return path


class MemoryNonces:
    """Nonces kept in memory, for fake services without a database."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    async def seen_with(self, key: str, nonce: str) -> str | None:
        return self.seen.get(f"{key}:{nonce}")

    async def claim(self, key: str, nonce: str, *, message_id: str, now: datetime) -> bool:
        del now
        if f"{key}:{nonce}" in self.seen:
            return False
        self.seen[f"{key}:{nonce}"] = message_id
        return True


def guard(service: str) -> AdminGuard:
    """The admin guard of a fake service: trusts the test operator, nonces in memory."""
    return AdminGuard(service=service, public_keys=PUBLIC_KEYS, nonces=MemoryNonces())
