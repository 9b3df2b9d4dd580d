"""One-time codes: their shape, how they are stored, how an attempt is read."""

from __future__ import annotations

import pytest
from helpdesk_auth.codes import code_hash, hashes_equal, new_code, normalise_code_input

PEPPER = b"unit-test-pepper-0123456789"


def _hash(code: str, **context: object) -> str:
    values: dict[str, object] = {
        "telegram_user_id": 42,
        "email_key": "maria.ivanova@example.com",
        "request_id": "req-1",
    } | context
    return code_hash(
        PEPPER,
        telegram_user_id=int(str(values["telegram_user_id"])),
        email_key=str(values["email_key"]),
        request_id=str(values["request_id"]),
        code=code,
    )


def test_codes_are_six_digits_and_vary() -> None:
    codes = {new_code() for _ in range(500)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 450  # 500 draws from a million values: collisions are rare


def test_the_hash_is_an_hmac_not_the_code() -> None:
    digest = _hash("042817")
    assert "042817" not in digest
    assert len(digest) == 64
    assert digest == _hash("042817")


@pytest.mark.parametrize(
    "context",
    [
        {"telegram_user_id": 43},
        {"email_key": "ivan.petrov@example.com"},
        {"request_id": "req-2"},
    ],
)
def test_a_code_is_bound_to_its_user_address_and_request(context: dict[str, object]) -> None:
    assert _hash("042817") != _hash("042817", **context)


def test_the_pepper_is_part_of_the_hash() -> None:
    other = code_hash(
        b"another-pepper-0123456789",
        telegram_user_id=42,
        email_key="maria.ivanova@example.com",
        request_id="req-1",
        code="042817",
    )
    assert other != _hash("042817")


@pytest.mark.parametrize(
    ("typed", "code"),
    [("042817", "042817"), (" 042 817 ", "042817"), ("042-817", "042817")],
)
def test_spaces_and_dashes_in_a_typed_code_are_ignored(typed: str, code: str) -> None:
    assert normalise_code_input(typed) == code


@pytest.mark.parametrize("typed", ["", "04281", "0428170", "abcdef", "٠٤٢٨١٧", "04281x"])
def test_anything_else_is_not_a_code(typed: str) -> None:
    assert normalise_code_input(typed) is None


def test_hashes_compare_equal_only_when_equal() -> None:
    assert hashes_equal(_hash("042817"), _hash("042817"))
    assert not hashes_equal(_hash("042817"), _hash("042818"))
