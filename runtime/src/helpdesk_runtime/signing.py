"""Operators' Ed25519 signatures on admin commands: keys, canonical form, sign, verify.

A broker account is not proof of who sent a command (any service could once reach an admin
queue through the retry exchanges), so the command itself carries the proof. The signed bytes are
the canonical JSON (sorted keys, no spaces, UTF-8) of

    {"command": <routing key>, "body": <the command without "signature">,
     "key": <key name>, "signed_at": <ISO time>, "nonce": <nonce>}

The routing key is signed because several commands share a body shape (a signed RevokeUser must
not pass as a DeleteUser). The verifier canonicalises the JSON object it *received* rather than
its own model's dump, so a newer CLI may add optional fields an older service does not know.

Keys: the private key is a PKCS#8 PEM file (`helpdesk-admin keygen`); a public key travels as
the base64 of its 32 raw bytes, named: `HELPDESK_ADMIN_PUBLIC_KEYS=ivanov=<base64>,petrova=...`.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from helpdesk_contracts.base import AdminCommand, AdminSignature

MAX_CLOCK_SKEW = timedelta(minutes=5)
"""A command signed longer ago (or further ahead) than this is stale."""

SIGNATURE_FIELD = "signature"


class SigningError(Exception):
    """A key that cannot be read or parsed (the message never contains key material)."""


class Refusal(StrEnum):
    """Why a command is not executed; the reason in the audit line and the answer."""

    UNSIGNED = "unsigned"
    UNKNOWN_KEY = "unknown key"
    BAD_SIGNATURE = "bad signature"
    STALE = "stale time stamp"
    REPLAYED = "replayed nonce"


@dataclass(frozen=True, slots=True)
class Check:
    """The result of checking a command's signature (before the nonce is looked at)."""

    key: str | None
    refusal: Refusal | None
    signature: AdminSignature | None

    @property
    def verified(self) -> bool:
        return self.refusal is None


def check_key_name(name: str) -> None:
    """Raise ValueError unless `name` can name a key (the contract's pattern)."""
    try:
        AdminSignature(key=name, signed_at=datetime.now(UTC), nonce="0" * 16, value="AA==")
    except ValueError:
        raise ValueError(
            f"{name!r} cannot name a key: 1-64 letters, digits, . _ @ -, starting with a "
            "letter or digit"
        ) from None


def generate_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"cannot read the signing key {path}: {exc.strerror}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise SigningError(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{path} is not an Ed25519 key")
    return key


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The public half as base64 of its 32 raw bytes (what services are given)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def parse_public_key(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise SigningError("not the base64 of a 32-byte Ed25519 public key") from None


def parse_public_keys(text: str) -> dict[str, str]:
    """`name=base64,name2=base64` (or a JSON object) -> {name: base64}; each key checked."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        loaded = json.loads(text)
        if not isinstance(loaded, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in loaded.items()
        ):
            raise ValueError("want a JSON object of name -> base64 public key")
        pairs = list(loaded.items())
    else:
        pairs = []
        for item in text.split(","):
            name, separator, value = item.strip().partition("=")
            if not separator or not name.strip():
                raise ValueError("want name=base64 pairs separated by commas")
            pairs.append((name.strip(), value.strip()))
    keys: dict[str, str] = {}
    for name, value in pairs:
        if name in keys:
            raise ValueError(f"key name {name!r} given twice")
        try:
            parse_public_key(value)
        except SigningError as exc:
            raise ValueError(f"key {name!r}: {exc}") from None
        keys[name] = value
    return keys


def canonical(routing_key: str, body: dict[str, Any], signature: AdminSignature) -> bytes:
    """The bytes an operator signs for one command (see the module docstring)."""
    unsigned = {k: v for k, v in body.items() if k != SIGNATURE_FIELD}
    document = {
        "command": routing_key,
        "body": unsigned,
        "key": signature.key,
        "signed_at": signature.signed_at.astimezone(UTC).isoformat(),
        "nonce": signature.nonce,
    }
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sign[C: AdminCommand](
    command: C, *, key_name: str, key: Ed25519PrivateKey, now: datetime | None = None
) -> C:
    """A copy of `command` carrying the operator's signature (a fresh nonce every call)."""
    unsigned = command.model_copy(update={SIGNATURE_FIELD: None})
    stub = AdminSignature(
        key=key_name,
        signed_at=now or datetime.now(UTC),
        nonce=secrets.token_hex(16),
        value="AA==",
    )
    body = json.loads(unsigned.model_dump_json(exclude={SIGNATURE_FIELD}))
    value = base64.b64encode(key.sign(canonical(command.routing_key, body, stub))).decode()
    return command.model_copy(update={SIGNATURE_FIELD: stub.model_copy(update={"value": value})})


def check(
    routing_key: str,
    body: dict[str, Any],
    public_keys: dict[str, Ed25519PublicKey],
    *,
    now: datetime,
    check_time: bool = True,
) -> Check:
    """Verify the signature in a received command body (a parsed JSON object).

    `check_time=False` is for a redelivery of a command whose nonce was accepted before: it was
    fresh when first received, and a retry through the delay tiers may take longer than the
    window.
    """
    raw = body.get(SIGNATURE_FIELD)
    if raw is None:
        return Check(None, Refusal.UNSIGNED, None)
    try:
        signature = AdminSignature.model_validate(raw)
    except ValueError:
        return Check(None, Refusal.BAD_SIGNATURE, None)
    public = public_keys.get(signature.key)
    if public is None:
        return Check(signature.key, Refusal.UNKNOWN_KEY, signature)
    try:
        public.verify(base64.b64decode(signature.value), canonical(routing_key, body, signature))
    except (InvalidSignature, binascii.Error, ValueError):
        return Check(signature.key, Refusal.BAD_SIGNATURE, signature)
    if check_time and abs(now - signature.signed_at) > MAX_CLOCK_SKEW:
        return Check(signature.key, Refusal.STALE, signature)
    return Check(signature.key, None, signature)
