"""The operator's command line: `parse` prints the parse as JSON; `default-rules` a rules file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpdesk_inbox.cli import main
from helpdesk_inbox.rules import load_rules

CORPUS = Path(__file__).parent / "corpus"
REPO_ROOT = Path(__file__).resolve().parents[3]


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(args)
    out, err = capsys.readouterr()
    return int(exit_.value.code or 0), out, err


def test_parse_prints_what_an_operator_tunes_rules_with(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INBOX_TRUSTED_SENDERS", "im@example.com")
    code, out, _ = run_cli(
        ["parse", str(CORPUS / "04-resolved-utf8-base64.eml"), "--explain"], capsys
    )
    result = json.loads(out)
    assert code == 0
    assert result["token"] == "TG-EF56AB"
    assert result["number"] == "12348"
    assert (result["status"], result["raw_status"]) == ("resolved", "Выполнена")
    assert result["comment"].startswith("Заменён картридж")
    assert result["matched_rules"]["status"] == "label:статус"
    assert result["rules"] == "default rules"
    assert (result["trusted"], result["trust_reason"]) == (
        True,
        "im@example.com matches im@example.com",
    )
    assert result["decision"]["action"] == "announce"
    assert result["decision"]["status"] == "resolved"
    assert result["explain"][0] == "sender: trusted (im@example.com matches im@example.com)"
    assert any("status name 'resolved:выполнена'" in line for line in result["explain"])
    assert "text" not in result


def test_parse_says_why_a_sender_is_not_trusted(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INBOX_TRUSTED_SENDERS", raising=False)
    mail = CORPUS / "04-resolved-utf8-base64.eml"
    _, out, _ = run_cli(["parse", str(mail)], capsys)
    unset = json.loads(out)
    _, out, _ = run_cli(["parse", str(mail), "--trusted-senders", "@itsm.example.com"], capsys)
    other = json.loads(out)

    assert unset["trusted"] is False
    assert "INBOX_TRUSTED_SENDERS is not set" in unset["trust_reason"]
    assert other["trust_reason"] == "im@example.com is not in INBOX_TRUSTED_SENDERS"
    assert other["decision"] == {
        "action": "quarantine",
        "reason": "untrusted_sender",
        "detail": "im@example.com is not in INBOX_TRUSTED_SENDERS",
    }


def test_parse_with_a_rules_file_and_the_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        "token = 'TG-[0-9A-Z]{6}'\nnumber = []\n[vocabulary]\nlabels = ['статус']\n"
        "separators = [':']\n[[phrase]]\nstatus = 'resolved'\nnames = ['готово']\n",
        "utf-8",
    )
    mail = CORPUS / "16-unknown-status.eml"
    code, out, _ = run_cli(["parse", str(mail), "--rules", str(rules), "--text"], capsys)
    result = json.loads(out)
    assert code == 0
    assert result["rules"] == str(rules)
    assert (result["number"], result["status"]) == (None, "unknown")
    assert result["text"] == "Статус: Передана подрядчику"


def test_parse_reports_a_bad_rules_file_or_a_missing_mail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "rules.toml"
    bad.write_text(
        "token = '(unclosed'\nnumber = []\n[vocabulary]\nlabels = ['a']\nseparators = [':']\n"
        "[[phrase]]\nstatus = 'resolved'\nnames = ['b']\n",
        "utf-8",
    )
    code, out, err = run_cli(
        ["parse", str(CORPUS / "01-registered-utf8.eml"), "--rules", str(bad)], capsys
    )
    assert (code, out) == (2, "")
    assert "token: bad regex" in err
    code, _, err = run_cli(["parse", str(tmp_path / "nope.eml")], capsys)
    assert code == 2
    assert "cannot read" in err


def test_default_rules_prints_a_file_that_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["default-rules"])
    path = tmp_path / "mine.toml"
    path.write_text(capsys.readouterr().out, "utf-8")
    assert load_rules(path).numbers == load_rules().numbers


def test_the_console_script_module_runs_parse() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "helpdesk_inbox", "parse", str(CORPUS / "02-in-progress-koi8r.eml")],
        capture_output=True,
        cwd=REPO_ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout)["status"] == "in_progress"
