"""Addresses as employees type them: what is accepted, how it is normalised and masked."""

from __future__ import annotations

import pytest
from helpdesk_auth.emails import domain_allowed, email_key, mask_email, normalise_email


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("  Maria.Ivanova@Example.COM ", "Maria.Ivanova@example.com"),
        ("ivan.petrov@example.com", "ivan.petrov@example.com"),
        ("o'brien+helpdesk@sub.example.com", "o'brien+helpdesk@sub.example.com"),
        # Filter metacharacters are legal in a local part; escaping, not rejection, handles them.
        ("*)(uid=*))(|(uid=*@example.com", "*)(uid=*))(|(uid=*@example.com"),
    ],
)
def test_addresses_are_trimmed_and_the_domain_lower_cased(typed: str, normalised: str) -> None:
    assert normalise_email(typed) == normalised


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "*",
        "maria.ivanova",
        "maria.ivanova@",
        "@example.com",
        "maria ivanova@example.com",
        "maria.ivanova\x00@example.com",
        "maria.ivanova@example.com\x00",
        "maria@ivanova@example.com",
        "maria.ivanova@localhost",
        "<maria.ivanova@example.com>",
        "a" * 65 + "@example.com",
        "maria@" + "d" * 300 + ".com",
    ],
)
def test_non_addresses_are_refused(typed: str) -> None:
    assert normalise_email(typed) is None


def test_addresses_compare_case_insensitively() -> None:
    assert email_key("Maria.Ivanova@example.com") == email_key("maria.ivanova@example.com")


def test_every_unicode_spelling_of_an_address_is_one_address() -> None:
    fullwidth = normalise_email("ｍａｒｉａ.ｉｖａｎｏｖａ＠ｅｘａｍｐｌｅ.ｃｏｍ")
    assert fullwidth == "maria.ivanova@example.com"
    ligature = normalise_email("\ufb01nance@example.com")  # "ﬁ" typed as one character
    assert ligature == "finance@example.com"
    assert email_key("STRASSE@example.com") == email_key("straße@example.com")  # case folding


def test_no_allowed_domains_means_any_domain() -> None:
    assert domain_allowed("maria.ivanova@example.com", ())


def test_only_configured_domains_are_allowed() -> None:
    allowed = ("example.com", "corp.example.org")
    assert domain_allowed("maria.ivanova@example.com", allowed)
    assert domain_allowed("x@corp.example.org", allowed)
    assert not domain_allowed("x@evil-example.com", allowed)
    assert not domain_allowed("x@sub.example.com", allowed)  # exact domains, not subdomains


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("maria.ivanova@example.com", "m***a@example.com"),
        ("ab@example.com", "a***@example.com"),
        ("x@example.com", "x***@example.com"),
        ("abc@example.com", "a***c@example.com"),
    ],
)
def test_masked_address_shows_little_of_the_local_part(email: str, masked: str) -> None:
    assert mask_email(email) == masked
