"""The rules file: shipped defaults, TOML or JSON, and clear errors for bad rules."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from helpdesk_contracts.ticket.v1 import TicketStatus
from helpdesk_inbox.errors import RulesError
from helpdesk_inbox.parse import parse_message
from helpdesk_inbox.rules import default_rules_text, load_rules

MAIL = (
    "From: im@example.com\nSubject: Заявка №12345 [TG-7F3A2C]\n"
    "Content-Type: text/plain; charset=utf-8\n\nСтатус: Передана подрядчику\n"
).encode()


def defaults() -> dict[str, object]:
    data: dict[str, object] = tomllib.loads(default_rules_text())
    return data


def test_the_shipped_rules_load() -> None:
    rules = load_rules()
    assert rules.source == "default rules"
    assert [r.name for r in rules.numbers][:3] == ["im-cl", "numero", "ticket-number"]
    assert {p.status for p in rules.phrases} == set(TicketStatus) - {TicketStatus.UNKNOWN}


def test_an_operator_adds_a_customer_status_name_without_a_release(tmp_path: Path) -> None:
    data = defaults()
    phrases = data["phrase"]
    assert isinstance(phrases, list)
    phrases.insert(0, {"status": "waiting", "names": ["передан\\w*\\s+подрядчику"]})
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")

    before = parse_message(MAIL, load_rules())
    after = parse_message(MAIL, load_rules(path))

    assert (before.status, before.raw_status) == (TicketStatus.UNKNOWN, "Передана подрядчику")
    assert (after.status, after.matched_rules["status_name"]) == (
        TicketStatus.WAITING,
        "waiting:передана подрядчику",
    )


def test_an_operator_adds_a_label_and_a_separator(tmp_path: Path) -> None:
    data = defaults()
    vocabulary = data["vocabulary"]
    assert isinstance(vocabulary, dict)
    vocabulary["labels"] = [*vocabulary["labels"], "этап"]
    vocabulary["separators"] = [*vocabulary["separators"], "::"]
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    mail = MAIL.replace("Статус: Передана подрядчику".encode(), "Этап :: Выполнена".encode())

    assert parse_message(mail, load_rules()).status is None
    assert parse_message(mail, load_rules(path)).status is TicketStatus.RESOLVED


def test_a_toml_rules_file_replaces_the_defaults_as_a_whole(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        """
version = 2
token = 'REF-[0-9]{4}'
[[number]]
name = "ticket"
pattern = 'ticket (?P<number>\\d+)'
[vocabulary]
labels = ['state']
separators = [':']
[[phrase]]
status = "resolved"
names = ['done']
""",
        "utf-8",
    )
    mail = b"Subject: ticket 77 REF-1234\n\nstate: Done\nStatus: closed\n"

    parsed = parse_message(mail, load_rules(path))

    assert (parsed.token, parsed.number, parsed.status) == ("REF-1234", "77", "resolved")
    assert parsed.matched_rules == {
        "number": "ticket",
        "status": "label:state",
        "status_name": "resolved:done",
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"token": "TG-[0-9"}, "token: bad regex"),
        (
            {"number": [{"name": "n", "pattern": "IM-(\\d+)"}]},
            "number rule 'n': the pattern needs a group named (?P<number>...)",
        ),
        (
            {"vocabulary": {"labels": ["(статус)"], "separators": [":"]}},
            "vocabulary.labels[0]: use (?:...) instead of capturing groups",
        ),
        ({"vocabulary": {"labels": ["статус"], "separators": ["(:"]}}, "separators[0]: bad regex"),
        ({"fallback_charsets": ["utf-8", "klingon"]}, "unknown charset 'klingon'"),
        ({"phrase": [{"status": "archived", "names": ["y"]}]}, "status"),
        ({"version": 1}, "version"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_rules_are_refused_with_the_rule_named(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(defaults() | change), "utf-8")
    with pytest.raises(RulesError, match=r".*".join(map(_escape, message.split()))):
        load_rules(path)


def _escape(text: str) -> str:
    import re

    return re.escape(text)


def test_unreadable_or_malformed_files_are_rules_errors(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read rules file"):
        load_rules(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("token = 'unterminated\n", "utf-8")
    with pytest.raises(RulesError, match="not valid TOML"):
        load_rules(broken)


def test_a_number_rule_can_be_limited_to_the_subject(tmp_path: Path) -> None:
    data = defaults()
    data["number"] = [{"name": "subject-only", "pattern": "#(?P<number>\\d+)", "scope": "subject"}]
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    rules = load_rules(path)

    assert parse_message(b"Subject: #123\n\nx\n", rules).number == "123"
    assert parse_message(b"Subject: x\n\n#123\n", rules).number is None


def test_sighup_reload_swaps_the_rules_and_a_bad_file_keeps_the_old_ones(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from types import SimpleNamespace
    from typing import cast

    from helpdesk_inbox.app import reload_rules
    from helpdesk_inbox.process import MailProcessor

    data = defaults()
    phrases = data["phrase"]
    assert isinstance(phrases, list)
    phrases.insert(0, {"status": "waiting", "names": ["передан\\w*\\s+подрядчику"]})
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    processor = cast(MailProcessor, SimpleNamespace(rules=load_rules()))

    assert reload_rules(processor, path) is True
    assert parse_message(MAIL, processor.rules).status is TicketStatus.WAITING

    path.write_text("{not json", "utf-8")
    assert reload_rules(processor, path) is False
    assert parse_message(MAIL, processor.rules).status is TicketStatus.WAITING
    assert "rules not reloaded" in caplog.text
