"""`helpdesk-inbox`: run the service, or the operator's tools.

- `helpdesk-inbox [run]`: the service (polls the mailbox, consumes TicketEmailed).
- `helpdesk-inbox parse FILE.eml [--rules FILE] [--text]`: what the parser reads in one mail,
  as JSON, to tune the rules against real mail.
- `helpdesk-inbox requeue-quarantine [--limit N]`: read quarantined mail again (after a rules
  change, or once its ticket is known); a JSON line per mail.
- `helpdesk-inbox default-rules`: print the shipped rules file, to start your own from.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from helpdesk_inbox.errors import RulesError
from helpdesk_inbox.parse import parse_message
from helpdesk_inbox.rules import default_rules_text, load_rules


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="helpdesk-inbox", description="InfraManager notification mail to ticket events."
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="run the service (the default)")
    parse = commands.add_parser("parse", help="print the parse of one .eml file as JSON")
    parse.add_argument("file", type=Path, help="the raw mail (.eml)")
    parse.add_argument("--rules", type=Path, default=None, help="rules file (.toml or .json)")
    parse.add_argument("--text", action="store_true", help="include the body text as read")
    requeue = commands.add_parser(
        "requeue-quarantine", help="process open quarantine entries again"
    )
    requeue.add_argument("--limit", type=int, default=0, help="at most this many (0: all)")
    commands.add_parser("default-rules", help="print the shipped rules file")
    return parser


def parse_command(file: Path, rules_file: Path | None, *, with_text: bool) -> int:
    try:
        rules = load_rules(rules_file)
        raw = file.read_bytes()
    except RulesError as exc:
        print(f"rules: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"cannot read {file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    parsed = parse_message(raw, rules)
    result = parsed.model_dump(mode="json")
    result["rules"] = rules.source
    if with_text:
        result["text"] = parsed.text
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    match args.command:
        case None | "run":
            from helpdesk_inbox.app import main as run_service

            run_service()
        case "parse":
            sys.exit(parse_command(args.file, args.rules, with_text=args.text))
        case "requeue-quarantine":
            from helpdesk_inbox.requeue import requeue_command

            sys.exit(asyncio.run(requeue_command(limit=args.limit)))
        case "default-rules":
            sys.stdout.write(default_rules_text())
