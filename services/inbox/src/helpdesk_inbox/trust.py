"""Whether a mail really comes from InfraManager: a pure decision on its headers.

Every employee knows the helpdesk mailbox's address, so anyone can write to it. Only a sender
on the allow-list (`INBOX_TRUSTED_SENDERS`) may change a ticket, and where the receiving mail
server vouches for the From domain in `Authentication-Results` (RFC 8601), an explicit
`dmarc=fail` or `dkim=fail` for that domain makes even a listed address untrusted.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

AuthResultsPolicy = Literal["pass", "off"]

_METHOD = re.compile(
    r"(?<![\w.-])(?P<method>dkim|dmarc|spf)\s*=\s*(?P<result>[a-z]+)(?P<props>[^;]*)",
    re.IGNORECASE,
)
_PROPERTY = re.compile(r"(?P<key>header\.[a-z]+|smtp\.[a-z]+)\s*=\s*(?P<value>[^\s;]+)", re.I)


@dataclass(frozen=True, slots=True)
class Trust:
    trusted: bool
    reason: str


def parse_sender_list(value: str) -> tuple[str, ...]:
    """`a@x.ru, @im.example.com` -> lower-cased entries; addresses and @domains only."""
    entries = []
    for item in value.split(","):
        entry = item.strip().lower()
        if not entry:
            continue
        local, at, domain = entry.rpartition("@")
        if not at or not domain or "." not in domain or any(c.isspace() for c in entry):
            raise ValueError(f"not an address or @domain: {item.strip()!r}")
        if local and not email.utils.parseaddr(entry)[1]:
            raise ValueError(f"not an address: {item.strip()!r}")
        entries.append(entry)
    return tuple(dict.fromkeys(entries))


@dataclass(frozen=True, slots=True)
class SenderPolicy:
    """The allow-list and how Authentication-Results are read."""

    senders: tuple[str, ...] = ()
    trust_any: bool = False
    require_auth_results: AuthResultsPolicy = "off"
    auth_server_ids: tuple[str, ...] = ()  # empty: every Authentication-Results header counts

    def judge(self, from_addresses: Sequence[str], auth_results: Sequence[str]) -> Trust:
        return judge_sender(self, from_addresses, auth_results)


def from_addresses(from_headers: Sequence[str]) -> tuple[str, ...]:
    """The addresses of the raw (undecoded) From headers: an encoded display name can never
    pose as an address."""
    found = [a.strip().lower() for _, a in email.utils.getaddresses(list(from_headers)) if a]
    return tuple(found)


def _one_address(addresses: Sequence[str]) -> str | None:
    if len(addresses) != 1:
        return None
    local, at, domain = addresses[0].rpartition("@")
    return addresses[0] if local and at and domain else None


def _listed(address: str, senders: Iterable[str]) -> str | None:
    domain = address.rpartition("@")[2]
    for entry in senders:
        if entry == address or (entry.startswith("@") and entry[1:] == domain):
            return entry
    return None


def _verdicts(header: str, domain: str) -> list[tuple[str, str]]:
    """(method, result) pairs of one Authentication-Results header that concern `domain`."""
    found = []
    for match in _METHOD.finditer(header):
        props = {
            m["key"].lower(): m["value"].strip('"').lower()
            for m in _PROPERTY.finditer(match["props"])
        }
        about = props.get("header.from") or props.get("header.d") or props.get("header.i", "")
        about = about.rpartition("@")[2]
        # A verdict that names another domain is about another signature (a relay's, say).
        if about and about != domain:
            continue
        found.append((match["method"].lower(), match["result"].lower()))
    return found


def _server_id(header: str) -> str:
    return header.split(";", 1)[0].strip().split()[0].lower() if header.strip() else ""


def judge_sender(
    policy: SenderPolicy, addresses: Sequence[str], auth_results: Sequence[str]
) -> Trust:
    if policy.trust_any:
        return Trust(True, "INBOX_TRUST_ANY_SENDER is set: every sender is trusted")
    address = _one_address(addresses)
    if address is None:
        return Trust(False, "From is not exactly one address")
    entry = _listed(address, policy.senders)
    if entry is None:
        return Trust(False, f"{address} is not in INBOX_TRUSTED_SENDERS")
    domain = address.rpartition("@")[2]
    headers = [
        h
        for h in auth_results
        if not policy.auth_server_ids or _server_id(h) in policy.auth_server_ids
    ]
    verdicts = [v for h in headers for v in _verdicts(h, domain)]
    failed = [f"{m}={r}" for m, r in verdicts if m in ("dkim", "dmarc") and r == "fail"]
    if failed:
        return Trust(False, f"{address} is listed, but Authentication-Results say {failed[0]}")
    if policy.require_auth_results == "pass":
        passed = [m for m, r in verdicts if m in ("dkim", "dmarc") and r == "pass"]
        if not passed:
            return Trust(
                False,
                f"{address} is listed, but no Authentication-Results show dkim=pass or "
                "dmarc=pass for it (INBOX_REQUIRE_AUTH_RESULTS=pass)",
            )
        return Trust(True, f"{address} matches {entry}; {passed[0]}=pass")
    return Trust(True, f"{address} matches {entry}")
