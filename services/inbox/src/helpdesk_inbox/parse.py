"""Read one notification email: a pure function from bytes (and rules) to a ParsedMail.

`parse_message` never raises: broken MIME, unknown charsets or a garbled date give a result
with `problems` listed, and whatever could still be read.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message

from helpdesk_contracts.ticket.v1 import TicketStatus
from pydantic import BaseModel, ConfigDict, Field

from helpdesk_inbox.mime import FORWARD_MARK, body_text, decode_header_value
from helpdesk_inbox.rules import Compiled, Rules

MAX_TEXT_CHARS = 100_000
"""Rules read at most this much text: notifications are short, and it bounds regex time."""

MAX_COMMENT_CHARS = 4000
MAX_RAW_STATUS_CHARS = 256
MAX_NUMBER_CHARS = 64
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,990}>")
_QUOTED_LINE = re.compile(r"^[ \t]*>.*$\n?", re.MULTILINE)


class ParsedMail(BaseModel):
    """What one email says, as far as the rules can tell."""

    model_config = ConfigDict(frozen=True)

    subject: str = ""
    sender: str = ""
    message_id: str | None = None
    reply_to_ids: tuple[str, ...] = Field(
        default=(), description="Message-IDs from In-Reply-To, then References (newest first)."
    )
    date: datetime | None = None
    token: str | None = Field(default=None, description="The one reference token it is about.")
    tokens: tuple[str, ...] = Field(default=(), description="Every distinct token, subject first.")
    number: str | None = None
    numbers: tuple[str, ...] = ()
    status: TicketStatus | None = Field(
        default=None, description="None: no status text found; unknown: found, not in the map."
    )
    raw_status: str | None = None
    comment: str | None = None
    auto_reply: bool = Field(default=False, description="Out-of-office reply or bounce.")
    headers_only: bool = False
    matched_rules: dict[str, str] = Field(default_factory=dict)
    problems: tuple[str, ...] = ()
    size: int = 0
    text: str = Field(default="", exclude=True, description="The body as read, for operators.")

    @property
    def ambiguous(self) -> bool:
        """Several of our tickets are mentioned and nothing says which one this mail is about."""
        return self.token is None and len(self.tokens) > 1

    @property
    def has_text(self) -> bool:
        return bool(self.text.strip() or self.subject.strip())


@dataclass(frozen=True, slots=True)
class _Texts:
    subject: str
    own: str  # the body before any quoted or forwarded part, without "> " lines
    unquoted: str  # the whole body without "> " lines (forwarded parts kept)
    whole: str  # the whole body

    def where(self, scope: str, *, order: tuple[str, ...]) -> list[str]:
        texts = {"subject": self.subject, "own": self.own, "unquoted": self.unquoted}
        allowed = {"any": order, "subject": ("subject",), "body": ("own", "unquoted")}[scope]
        return [texts[name] for name in order if name in allowed]


def _split_texts(subject: str, body: str, rules: Rules) -> _Texts:
    body = body[:MAX_TEXT_CHARS]
    unquoted = _QUOTED_LINE.sub("", body)
    cut = len(unquoted)
    for separator in (*rules.quote_separators, re.compile(re.escape(FORWARD_MARK))):
        found = separator.search(unquoted)
        if found is not None:
            cut = min(cut, found.start())
    return _Texts(subject=subject, own=unquoted[:cut], unquoted=unquoted, whole=body)


def _distinct(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _first_match(
    rules: tuple[Compiled, ...], texts: _Texts, group: str, order: tuple[str, ...]
) -> tuple[Compiled, str] | None:
    for rule in rules:
        for text in texts.where(rule.scope, order=order):
            found = rule.regex.search(text)
            if found is not None and (value := (found.group(group) or "").strip()):
                return rule, value
    return None


def _status_of(raw: str, rules: Rules) -> tuple[TicketStatus, str | None]:
    for entry in rules.status_names:
        if entry.regex.search(raw) and entry.status is not None:
            return entry.status, entry.name
    return TicketStatus.UNKNOWN, None


def _find_numbers(texts: _Texts, rules: Rules) -> tuple[str | None, tuple[str, ...], str | None]:
    found: list[str] = []
    first: tuple[str, str] | None = None
    for where, text in (("subject", texts.subject), ("body", texts.whole)):
        for rule in rules.numbers:
            if rule.scope not in ("any", where):
                continue
            for match in rule.regex.finditer(text):
                number = match.group("number")[:MAX_NUMBER_CHARS]
                found.append(number)
                if first is None:
                    first = (number, rule.name)
    return (first[0] if first else None), _distinct(found), (first[1] if first else None)


def _find_tokens(texts: _Texts, rules: Rules) -> tuple[str | None, tuple[str, ...]]:
    in_subject = _distinct(m.group(0).upper() for m in rules.token.finditer(texts.subject))
    in_body = _distinct(m.group(0).upper() for m in rules.token.finditer(texts.whole))
    tokens = _distinct((*in_subject, *in_body))
    # The subject names the ticket a notification is about; the body may mention others.
    chosen = in_subject if in_subject else in_body
    return (chosen[0] if len(chosen) == 1 else None), tokens


def _date(value: str) -> tuple[datetime | None, list[str]]:
    if not value:
        return None, ["no-date"]
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None, ["bad-date"]
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC), []


def _header(msg: Message, name: str) -> str:
    """A header as plain text: raw 8-bit values come back from compat32 as Header objects."""
    value = msg.get(name)
    return "" if value is None else str(value).strip()


def _is_auto_reply(msg: Message, subject: str, rules: Rules) -> bool:
    if _header(msg, "Auto-Submitted").lower().startswith("auto-replied"):
        return True
    if _header(msg, "X-Autoreply") or _header(msg, "X-Autorespond"):
        return True
    if _header(msg, "Precedence").lower() == "auto_reply":
        return True
    if msg.get_content_type() == "multipart/report":  # a delivery or read report
        return True
    return rules.auto_reply_subject is not None and bool(rules.auto_reply_subject.search(subject))


def _ids(value: str) -> list[str]:
    return _MESSAGE_ID.findall(value)


def _one_line(text: str, limit: int) -> str:
    return " ".join(text.split())[:limit]


def parse_message(raw: bytes, rules: Rules, *, headers_only: bool = False) -> ParsedMail:
    """Read one email. `headers_only`: `raw` is just the header block (TOP of a large mail)."""
    try:
        return _parse(raw, rules, headers_only=headers_only)
    except Exception as exc:  # the promise is a result, not an exception, for any input
        return ParsedMail(
            problems=(f"parse-error:{type(exc).__name__}",),
            size=len(raw),
            headers_only=headers_only,
        )


def _parse(raw: bytes, rules: Rules, *, headers_only: bool) -> ParsedMail:
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    fallbacks = rules.fallback_charsets
    problems: list[str] = [f"mime-defect:{type(d).__name__}" for d in msg.defects]
    subject, subject_problems = decode_header_value(msg.get("Subject"), fallbacks)
    sender, sender_problems = decode_header_value(msg.get("From"), fallbacks)
    date, date_problems = _date(_header(msg, "Date"))
    problems += subject_problems + sender_problems + date_problems
    body = ""
    if not headers_only:
        body, body_problems = body_text(msg, fallbacks)
        problems += body_problems
        for part in msg.walk():
            if part is not msg:
                problems += [f"mime-defect:{type(d).__name__}" for d in part.defects]
        if not body:
            problems.append("no-text")
    texts = _split_texts(subject, body, rules)
    matched: dict[str, str] = {}

    token, tokens = _find_tokens(texts, rules)
    number, numbers, number_rule = _find_numbers(texts, rules)
    if number_rule:
        matched["number"] = number_rule

    # A reply quotes old notifications (often without "> "): only its own text counts.
    is_reply = rules.reply_subject is not None and bool(rules.reply_subject.search(subject))
    status_order = ("own",) if is_reply else ("own", "subject", "unquoted")
    comment_order = ("own",) if is_reply else ("own", "unquoted")

    status: TicketStatus | None = None
    raw_status: str | None = None
    status_hit = _first_match(rules.statuses, texts, "status", status_order)
    if status_hit is not None:
        rule, raw_status = status_hit
        raw_status = _one_line(raw_status, MAX_RAW_STATUS_CHARS)
        matched["status"] = rule.name
        if rule.status is not None:
            status = rule.status
        else:
            status, name_rule = _status_of(raw_status, rules)
            if name_rule:
                matched["status_name"] = name_rule

    comment: str | None = None
    comment_hit = _first_match(rules.comments, texts, "comment", comment_order)
    if comment_hit is not None:
        matched["comment"] = comment_hit[0].name
        comment = comment_hit[1][:MAX_COMMENT_CHARS]

    message_ids = _ids(_header(msg, "Message-ID"))
    reply_ids = _ids(_header(msg, "In-Reply-To")) + list(reversed(_ids(_header(msg, "References"))))
    return ParsedMail(
        subject=subject,
        sender=sender,
        message_id=message_ids[0] if message_ids else None,
        reply_to_ids=_distinct(reply_ids),
        date=date,
        token=token,
        tokens=tokens,
        number=number,
        numbers=numbers,
        status=status,
        raw_status=raw_status,
        comment=comment,
        auto_reply=_is_auto_reply(msg, subject, rules),
        headers_only=headers_only,
        matched_rules=matched,
        problems=_distinct(problems),
        size=len(raw),
        text=body,
    )
