"""Operators' signatures on admin commands: what verifies and what does not (pure, no servers)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from helpdesk_contracts.admin import v1 as admin_v1
from helpdesk_contracts.base import AdminCommand, AdminSignature
from helpdesk_runtime import signing
from helpdesk_runtime.config import settings_problems
from helpdesk_runtime.settings import InfraSettings

KEY = signing.generate_key()
KEYS = {"ivanov": signing.parse_public_key(signing.public_key_text(KEY))}
NOW = datetime(2026, 11, 26, 10, 15, tzinfo=UTC)


def _received(command: AdminCommand) -> dict[str, object]:
    """The JSON object a service parses from the delivery."""
    loaded: dict[str, object] = json.loads(command.model_dump_json())
    return loaded


def _signed(command: AdminCommand, *, at: datetime = NOW) -> AdminCommand:
    return signing.sign(command, key_name="ivanov", key=KEY, now=at)


def test_a_signed_command_verifies_and_names_its_key() -> None:
    command = _signed(admin_v1.RevokeUser(requested_by="ops:ivanov", email="a.b@example.com"))
    checked = signing.check(command.routing_key, _received(command), KEYS, now=NOW)
    assert (checked.verified, checked.key, checked.refusal) == (True, "ivanov", None)


def test_each_signature_has_a_fresh_nonce() -> None:
    command = admin_v1.RunJanitor(requested_by="ops:ivanov")
    first, second = _signed(command), _signed(command)
    assert first.signature is not None and second.signature is not None
    assert first.signature.nonce != second.signature.nonce


def test_a_signature_is_bound_to_the_command_it_was_made_for() -> None:
    """A signed RevokeUser has DeleteUser's shape, but must not pass as one."""
    revoke = _signed(admin_v1.RevokeUser(requested_by="ops:ivanov", telegram_user_id=7))
    body = _received(revoke)
    checked = signing.check(admin_v1.DeleteUser.routing_key, body, KEYS, now=NOW)
    assert checked.refusal is signing.Refusal.BAD_SIGNATURE


@pytest.mark.parametrize(
    ("field", "value"),
    [("telegram_user_id", 8), ("requested_by", "ops:someone-else"), ("message_id", "0" * 32)],
)
def test_any_changed_field_breaks_the_signature(field: str, value: object) -> None:
    body = _received(_signed(admin_v1.RevokeUser(requested_by="ops:ivanov", telegram_user_id=7)))
    body[field] = value
    checked = signing.check(admin_v1.RevokeUser.routing_key, body, KEYS, now=NOW)
    assert checked.refusal is signing.Refusal.BAD_SIGNATURE


def test_a_field_unknown_to_the_service_is_still_covered() -> None:
    """A newer CLI's optional field verifies on an older service, and cannot be added later."""
    body = _received(admin_v1.RunJanitor(requested_by="ops:ivanov"))
    body["future_option"] = True
    stub = AdminSignature(key="ivanov", signed_at=NOW, nonce="a" * 32, value="AA==")
    value = base64.b64encode(
        KEY.sign(signing.canonical(admin_v1.RunJanitor.routing_key, body, stub))
    ).decode()
    body["signature"] = json.loads(stub.model_copy(update={"value": value}).model_dump_json())
    assert signing.check(admin_v1.RunJanitor.routing_key, body, KEYS, now=NOW).verified
    body["another"] = 1
    refusal = signing.check(admin_v1.RunJanitor.routing_key, body, KEYS, now=NOW).refusal
    assert refusal is signing.Refusal.BAD_SIGNATURE


@pytest.mark.parametrize(
    ("offset", "fresh"),
    [
        (timedelta(minutes=-4, seconds=-59), True),
        (timedelta(minutes=4, seconds=59), True),
        (timedelta(minutes=-5, seconds=-1), False),
        (timedelta(minutes=5, seconds=1), False),
    ],
)
def test_the_time_stamp_must_be_within_five_minutes(offset: timedelta, fresh: bool) -> None:
    command = _signed(admin_v1.RunJanitor(requested_by="ops:ivanov"), at=NOW + offset)
    checked = signing.check(command.routing_key, _received(command), KEYS, now=NOW)
    assert checked.refusal is (None if fresh else signing.Refusal.STALE)
    late = signing.check(command.routing_key, _received(command), KEYS, now=NOW, check_time=False)
    assert late.verified


def test_unsigned_and_unknown_keys_are_refused() -> None:
    command = admin_v1.RunJanitor(requested_by="ops:ivanov")
    unsigned = signing.check(command.routing_key, _received(command), KEYS, now=NOW)
    assert unsigned.refusal is signing.Refusal.UNSIGNED
    other = signing.sign(command, key_name="mallory", key=signing.generate_key(), now=NOW)
    unknown = signing.check(command.routing_key, _received(other), KEYS, now=NOW)
    assert (unknown.refusal, unknown.key) == (signing.Refusal.UNKNOWN_KEY, "mallory")


def test_public_keys_are_read_as_named_pairs_or_json() -> None:
    text = signing.public_key_text(KEY)
    assert signing.parse_public_keys(f"ivanov={text}, petrova={text}") == {
        "ivanov": text,
        "petrova": text,
    }
    assert signing.parse_public_keys(json.dumps({"ivanov": text})) == {"ivanov": text}
    assert signing.parse_public_keys("") == {}


def test_a_bad_public_key_stops_the_service_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HELPDESK_ADMIN_PUBLIC_KEYS", "ivanov=not-a-key")
    settings, problems = settings_problems(InfraSettings)
    assert settings is None
    assert problems == [
        "HELPDESK_ADMIN_PUBLIC_KEYS: key 'ivanov': not the base64 of a 32-byte Ed25519 public key"
    ]
