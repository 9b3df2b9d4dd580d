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
    assert [r.name for r in rules.numbers] == ["im-cl", "numero", "ticket-number"]
    assert {s.status for s in rules.status_names} == set(TicketStatus) - {TicketStatus.UNKNOWN}


def test_a_rules_file_maps_a_customer_status(tmp_path: Path) -> None:
    data = defaults()
    names = data["status_name"]
    assert isinstance(names, list)
    names.insert(0, {"name": "contractor", "pattern": "подрядчик", "status": "waiting"})
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")

    before = parse_message(MAIL, load_rules())
    after = parse_message(MAIL, load_rules(path))

    assert (before.status, before.raw_status) == (TicketStatus.UNKNOWN, "Передана подрядчику")
    assert (after.status, after.matched_rules["status_name"]) == (
        TicketStatus.WAITING,
        "contractor",
    )


def test_a_toml_rules_file_replaces_the_defaults_as_a_whole(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        """
token = 'REF-[0-9]{4}'
[[number]]
name = "ticket"
pattern = 'ticket (?P<number>\\d+)'
[[status]]
name = "state"
pattern = '^state: (?P<status>.+)$'
[[status_name]]
name = "done"
pattern = 'done'
status = "resolved"
""",
        "utf-8",
    )
    mail = b"Subject: ticket 77 REF-1234\n\nstate: Done\n"

    parsed = parse_message(mail, load_rules(path))

    assert (parsed.token, parsed.number, parsed.status) == ("REF-1234", "77", "resolved")
    assert parsed.matched_rules == {"number": "ticket", "status": "state", "status_name": "done"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"token": "TG-[0-9"}, "token: bad regex"),
        (
            {"number": [{"name": "n", "pattern": "IM-(\\d+)"}]},
            "number rule 'n': the pattern needs a group named (?P<number>...)",
        ),
        (
            {"status": [{"name": "s", "pattern": "Статус: (.+)"}]},
            "status rule 's': the pattern needs a group named (?P<status>...)",
        ),
        ({"fallback_charsets": ["utf-8", "klingon"]}, "unknown charset 'klingon'"),
        ({"status_name": [{"name": "x", "pattern": "y", "status": "archived"}]}, "status"),
        ({"version": 2}, "version"),
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


def test_a_rule_can_be_limited_to_the_subject(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        """
token = 'TG-[0-9A-Z]{6}'
number = []
[[status]]
name = "subject-only"
pattern = '^Заявка: (?P<status>\\S+)'
scope = "subject"
[[status_name]]
name = "done"
pattern = 'готово'
status = "resolved"
""",
        "utf-8",
    )
    rules = load_rules(path)
    in_subject = "Subject: Заявка: готово\n\nЗаявка: новая\n".encode()
    in_body = "Subject: Уведомление\n\nЗаявка: готово\n".encode()

    assert parse_message(in_subject, rules).status == TicketStatus.RESOLVED
    assert parse_message(in_body, rules).status is None
