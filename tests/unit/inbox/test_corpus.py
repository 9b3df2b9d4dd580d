"""The parser against a corpus of notification emails, each with its expected parse.

Every `corpus/NAME.eml` has a `corpus/NAME.json`:
    about             what the mail is and what it tests
    verdict           what the inbox does with it, with its sender judged against TRUSTED and
                      its token, reply headers or number taken as naming a known ticket:
                      "announce:<status>" or "quarantine:<reason>"
    expect            fields of the parse (as `parse` prints them) that must be equal
    problems_include  problem strings that must be reported (others may be too)
    text_contains / text_excludes
                      strings the body text as read must / must not contain
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from helpdesk_inbox.cli import would_decide
from helpdesk_inbox.parse import parse_message
from helpdesk_inbox.rules import Rules, load_rules
from helpdesk_inbox.trust import SenderPolicy

CORPUS = Path(__file__).parent / "corpus"
MAILS = sorted(CORPUS.glob("*.eml"))
TRUSTED = SenderPolicy(senders=("im@example.com", "@itsm.example.com"))
NOW = datetime(2026, 12, 1, tzinfo=UTC)
"""The corpus is dated late 2026; a mail dated further ahead than NOW tests the future Date."""


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules()


def spec_of(mail: Path) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(mail.with_suffix(".json").read_text("utf-8"))
    return spec


def test_the_corpus_is_complete() -> None:
    assert len(MAILS) >= 30
    assert sorted(CORPUS.glob("*.json")) == [m.with_suffix(".json") for m in MAILS]


@pytest.mark.parametrize("mail", MAILS, ids=[m.stem for m in MAILS])
def test_mail_parses_as_expected(mail: Path, rules: Rules) -> None:
    spec = spec_of(mail)
    parsed = parse_message(mail.read_bytes(), rules, now=NOW)
    seen = parsed.model_dump(mode="json")
    decision = would_decide(parsed, TRUSTED.judge(parsed.from_addresses, parsed.auth_results))
    verdict = f"{decision['action']}:{decision.get('status') or decision.get('reason')}"
    assert verdict == spec["verdict"], (spec["about"], decision)

    got = {field: seen[field] for field in spec["expect"]}
    assert got == spec["expect"], spec["about"]
    for problem in spec.get("problems_include", []):
        assert problem in parsed.problems, (problem, parsed.problems)
    for text in spec.get("text_contains", []):
        assert text in parsed.text, (text, parsed.text)
    for text in spec.get("text_excludes", []):
        assert text not in parsed.text, (text, parsed.text)


def inflate(raw: bytes, size: int) -> bytes:
    """Grow the base64 image of 27-attachments.eml until the mail is `size` bytes."""
    head, sep, rest = raw.partition(b"Content-Transfer-Encoding: base64\n\n")
    body, end, tail = rest.partition(b"\n--ATT--")
    line = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3\n"
    missing = size - len(raw)
    padding = line * (missing // len(line) + 1)
    return head + sep + body + b"\n" + padding.rstrip(b"\n") + end + tail


def test_a_15_mb_mail_is_read_without_its_attachment(rules: Rules) -> None:
    raw = inflate((CORPUS / "27-attachments.eml").read_bytes(), 15 * 1024 * 1024)
    assert len(raw) >= 15 * 1024 * 1024

    started = time.monotonic()
    parsed = parse_message(raw, rules)
    elapsed = time.monotonic() - started

    assert (parsed.token, parsed.number, parsed.status) == ("TG-1C2D3E", "12369", "resolved")
    assert parsed.size == len(raw)
    assert len(parsed.text) < 100  # the image was not decoded into text
    assert elapsed < 10, f"parsing 15 MB took {elapsed:.1f}s"


def test_headers_only_reads_the_subject_and_reports_no_body(rules: Rules) -> None:
    raw = (CORPUS / "01-registered-utf8.eml").read_bytes()
    header_block = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0] + b"\n\n"

    parsed = parse_message(header_block, rules, headers_only=True)

    assert parsed.headers_only
    assert (parsed.token, parsed.number) == ("TG-7F3A2C", "12345")
    assert parsed.status is None
    assert parsed.text == ""
