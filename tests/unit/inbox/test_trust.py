"""Who may change a ticket: the allow-list and Authentication-Results, judged on headers."""

from __future__ import annotations

import pytest
from helpdesk_inbox.trust import SenderPolicy, from_addresses, parse_sender_list

LISTED = SenderPolicy(senders=("im@example.com", "@itsm.example.com"))


@pytest.mark.parametrize(
    ("from_header", "trusted"),
    [
        ("InfraManager <im@example.com>", True),
        ("IM@Example.COM", True),
        ("Service Desk <noreply@itsm.example.com>", True),
        ("noreply@sub.itsm.example.com", False),  # a domain entry is that domain only
        ("InfraManager <im@example.com.evil.test>", False),
        ('"im@example.com" <eve@example.org>', False),
        ("=?utf-8?b?SW5mcmFNYW5hZ2VyIDxpbUBleGFtcGxlLmNvbT4=?= <eve@example.org>", False),
        ("im@example.com, eve@example.org", False),  # two authors: not one trusted sender
        ("", False),
    ],
)
def test_only_a_listed_address_or_domain_is_trusted(from_header: str, trusted: bool) -> None:
    assert LISTED.judge(from_addresses([from_header]), []).trusted is trusted


def test_an_explicit_dmarc_or_dkim_fail_for_the_from_domain_distrusts_a_listed_sender() -> None:
    addresses = from_addresses(["im@example.com"])
    fail = "mx.example.com; dkim=pass header.d=relay.test; dmarc=fail header.from=example.com"
    other = "mx.example.com; dkim=fail header.d=relay.test; dmarc=pass header.from=example.com"

    judged = LISTED.judge(addresses, [fail])
    assert (judged.trusted, judged.reason) == (
        False,
        "im@example.com is listed, but Authentication-Results say dmarc=fail",
    )
    assert LISTED.judge(addresses, [other]).trusted is True  # a relay's signature failed


def test_pass_mode_needs_a_passing_verdict_from_our_own_server() -> None:
    strict = SenderPolicy(
        senders=("im@example.com",), require_auth_results="pass", auth_server_ids=("mx1.corp",)
    )
    addresses = from_addresses(["im@example.com"])
    ours = "mx1.corp; dkim=pass header.d=example.com; spf=pass"
    forged = "evil.test; dkim=pass header.d=example.com"

    assert strict.judge(addresses, []).trusted is False
    assert strict.judge(addresses, [forged]).trusted is False  # not our server's header
    assert strict.judge(addresses, [ours]).trusted is True


def test_trust_any_sender_trusts_everyone_on_purpose() -> None:
    anyone = SenderPolicy(trust_any=True)
    assert anyone.judge(from_addresses(["eve@example.org"]), []).trusted is True


def test_the_sender_list_is_checked() -> None:
    assert parse_sender_list(" IM@example.com , @itsm.example.com,,") == (
        "im@example.com",
        "@itsm.example.com",
    )
    for bad in ("InfraManager", "@localhost", "a b@example.com"):
        with pytest.raises(ValueError, match="not an address"):
            parse_sender_list(bad)
