"""`helpdesk-inbox`: run the service, or the operator's tools.

- `helpdesk-inbox [run]`: the service (polls the mailbox, consumes TicketEmailed).
- `helpdesk-inbox parse FILE.eml [--rules FILE] [--text] [--explain]`: what the parser reads in
  one mail, whether its sender is trusted under the current settings (INBOX_TRUSTED_SENDERS...)
  and the decision the inbox would take, as JSON; `--explain` names each rule that matched.
- `helpdesk-inbox quarantine list|show|export|requeue`: what was set aside, and reading it again
  (after a rules change, or once its ticket is known). `requeue-quarantine` is the old name of
  `quarantine requeue`.
- `helpdesk-inbox default-rules`: print the shipped rules file, to start your own from.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from helpdesk_contracts.base import utc_now
from pydantic import ValidationError

from helpdesk_inbox.correlate import Announce, Defer, LinkedTicket, Lookups, Quarantine, decide
from helpdesk_inbox.errors import RulesError
from helpdesk_inbox.parse import ParsedMail, parse_message
from helpdesk_inbox.rules import default_rules_text, load_rules
from helpdesk_inbox.trust import SenderPolicy, Trust, parse_sender_list

_KNOWN = LinkedTicket(ticket_id="(its ticket)", reference="(its reference)")


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
    parse.add_argument("--explain", action="store_true", help="name each rule that matched")
    parse.add_argument(
        "--trusted-senders",
        default=None,
        help="judge the sender against this list instead of INBOX_TRUSTED_SENDERS",
    )
    requeue = commands.add_parser(
        "requeue-quarantine", help="process open quarantine entries again"
    )
    requeue.add_argument("--limit", type=int, default=0, help="at most this many (0: all)")
    quarantine = commands.add_parser("quarantine", help="mail set aside for an operator")
    actions = quarantine.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="one JSON line per entry, newest first")
    listing.add_argument("--reason", default=None, help="only this reason (e.g. no_match)")
    listing.add_argument("--all", action="store_true", help="resolved entries too")
    listing.add_argument("--limit", type=int, default=50, help="at most this many (0: all)")
    show = actions.add_parser("show", help="one entry and what the parser reads in it now")
    show.add_argument("id", help="the quarantine id")
    export = actions.add_parser("export", help="write the kept raw mail as .eml")
    export.add_argument("id", help="the quarantine id")
    export.add_argument("--out", type=Path, default=None, help="file (default: stdout)")
    again = actions.add_parser("requeue", help="process open entries again")
    again.add_argument("--limit", type=int, default=0, help="at most this many (0: all)")
    commands.add_parser("default-rules", help="print the shipped rules file")
    return parser


def sender_policy(trusted_senders: str | None) -> tuple[SenderPolicy, str | None]:
    """The policy of the current settings (or of `--trusted-senders`), and a note if none."""
    from helpdesk_inbox.senders import SenderSettings

    settings = SenderSettings()
    policy = settings.sender_policy()
    if trusted_senders is not None:
        policy = SenderPolicy(
            senders=parse_sender_list(trusted_senders),
            require_auth_results=policy.require_auth_results,
            auth_server_ids=policy.auth_server_ids,
        )
    if not policy.senders and not policy.trust_any:
        return policy, "INBOX_TRUSTED_SENDERS is not set: no sender would be trusted"
    return policy, None


def would_decide(parsed: ParsedMail, trust: Trust) -> dict[str, Any]:
    """The decision, assuming its token, reply headers or number name a ticket we know."""
    lookups = Lookups(
        by_token=_KNOWN if parsed.token else None,
        by_message_id=_KNOWN if parsed.reply_to_ids else None,
        by_number=_KNOWN if parsed.number else None,
    )
    decision = decide(
        parsed, lookups, trust=trust, first_seen=None, now=utc_now(), match_grace=timedelta(0)
    )
    match decision:
        case Announce(via=via):
            return {
                "action": "announce",
                "status": parsed.status.value if parsed.status else None,
                "matched_by": via,
                "assuming": f"the {via} names a ticket the inbox knows",
            }
        case Quarantine(reason=reason, detail=detail):
            return {"action": "quarantine", "reason": reason.value, "detail": detail}
        case Defer(detail=detail):  # pragma: no cover - grace 0 never defers
            return {"action": "defer", "detail": detail}


def explain(parsed: ParsedMail, trust: Trust) -> list[str]:
    """Each step as a sentence an operator can check against the rules file."""
    lines = [f"sender: {'trusted' if trust.trusted else 'untrusted'} ({trust.reason})"]
    rules = parsed.matched_rules
    if "number" in rules:
        lines.append(f"number: rule {rules['number']!r} found {parsed.number}")
    if parsed.token:
        lines.append(f"token: {parsed.token}")
    if "status" in rules:
        form, _, label = rules["status"].partition(":")
        name = rules.get("status_name")
        meaning = (
            f"status name {name!r}"
            if name
            else "no status name matched (negated or unknown): unknown"
        )
        lines.append(f"status: {form} {label!r} -> {parsed.raw_status!r}; {meaning}")
    else:
        lines.append("status: no label, 'changed to' phrase or status sentence found")
    if "comment" in rules:
        lines.append(f"comment: after label {rules['comment']!r}")
    lines += [f"problem: {p}" for p in parsed.problems]
    return lines


def parse_command(
    file: Path,
    rules_file: Path | None,
    *,
    with_text: bool,
    with_explain: bool = False,
    trusted_senders: str | None = None,
) -> int:
    try:
        rules = load_rules(rules_file)
        raw = file.read_bytes()
        policy, note = sender_policy(trusted_senders)
    except RulesError as exc:
        print(f"rules: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"cannot read {file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except (ValueError, ValidationError) as exc:
        print(f"trusted senders: {exc}", file=sys.stderr)
        return 2
    parsed = parse_message(raw, rules, now=utc_now())
    trust = policy.judge(parsed.from_addresses, parsed.auth_results)
    if note and not trust.trusted:
        trust = Trust(False, note)
    result = parsed.model_dump(mode="json")
    result["rules"] = rules.source
    result["trusted"] = trust.trusted
    result["trust_reason"] = trust.reason
    result["decision"] = would_decide(parsed, trust)
    if with_explain:
        result["explain"] = explain(parsed, trust)
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
            sys.exit(
                parse_command(
                    args.file,
                    args.rules,
                    with_text=args.text,
                    with_explain=args.explain,
                    trusted_senders=args.trusted_senders,
                )
            )
        case "requeue-quarantine":
            from helpdesk_inbox.requeue import requeue_command

            sys.exit(asyncio.run(requeue_command(limit=args.limit)))
        case "quarantine":
            from helpdesk_inbox.requeue import quarantine_command

            sys.exit(asyncio.run(quarantine_command(args)))
        case "default-rules":
            sys.stdout.write(default_rules_text())
