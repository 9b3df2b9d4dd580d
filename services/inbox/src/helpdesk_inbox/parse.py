"""Read one notification email: a pure function from bytes (and rules) to a ParsedMail.

`parse_message` never raises: broken MIME, unknown charsets or a garbled date give a result
with `problems` listed, and whatever could still be read.
"""

from __future__ import annotations

import email
import email.parser
import email.policy
import email.utils
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message

from helpdesk_contracts.ticket.v1 import TicketStatus
from pydantic import BaseModel, ConfigDict, Field

from helpdesk_inbox.mime import FORWARD_MARK, body_text, decode_header_value
from helpdesk_inbox.rules import Rules
from helpdesk_inbox.trust import from_addresses

MAX_TEXT_CHARS = 100_000
"""Rules read at most this much text: notifications are short, and it bounds regex time."""

MAX_COMMENT_CHARS = 4000
MAX_HEADER_BYTES = 4 * 1024 * 1024
MAX_RAW_STATUS_CHARS = 256
MAX_NUMBER_CHARS = 64
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,990}>")
_QUOTED_LINE = re.compile(r"^[ \t]*>.*$\n?", re.MULTILINE)
_QUOTE_OPEN = re.compile(r"^\s*[«\"“„'‘]")
_QUOTE_CLOSE = re.compile(r"[»\"”“'’]")
_VALUE_END = re.compile(r"(?:[.;!?,](?:\s|$)|[;!?]|\s[-–—]\s|\s\(|\s\[)")
_GENERIC_LABEL = re.compile(r"^[ \t]*[^\W\d_][\w .()/-]{0,40}?[ \t]*:[ \t]")
_LEADING_SEPARATORS = re.compile(r"^[\s:：|=\-–—]+")
FUTURE_TOLERANCE = timedelta(minutes=10)
"""A Date further ahead than this is a lie (or a broken clock): recorded, never used."""


class ParsedMail(BaseModel):
    """What one email says, as far as the rules can tell."""

    model_config = ConfigDict(frozen=True)

    subject: str = ""
    sender: str = ""
    from_addresses: tuple[str, ...] = Field(
        default=(), description="Addresses of the From header(s), read before any decoding."
    )
    auth_results: tuple[str, ...] = Field(
        default=(), description="Authentication-Results headers, as received."
    )
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
    subject: str  # the subject up to our reference token (what follows echoes the summary)
    own: str  # the body before quoted or forwarded history, without echoed-summary lines
    unquoted: str  # the whole body without "> " lines (forwarded parts kept)
    whole: str  # the whole body


def _cut_history(body: str, rules: Rules) -> str:
    unquoted = _QUOTED_LINE.sub("", body)
    cut = len(unquoted)
    for separator in (*rules.quote_separators, re.compile(re.escape(FORWARD_MARK))):
        found = separator.search(unquoted)
        if found is not None:
            cut = min(cut, found.start())
    return unquoted[:cut]


def _is_any_label(line: str, rules: Rules) -> bool:
    return bool(
        _GENERIC_LABEL.match(line)
        or rules.label_line.match(line)
        or (rules.comment_line and rules.comment_line.match(line))
        or (rules.summary_line and rules.summary_line.match(line))
    )


def _drop_summary(text: str, rules: Rules) -> str:
    """Without lines that echo the ticket's own text ("Тема: ...") and their continuations."""
    if rules.summary_line is None:
        return text
    kept: list[str] = []
    inside = False
    for line in text.split("\n"):
        if rules.summary_line.match(line) and not (
            rules.comment_line and rules.comment_line.match(line)
        ):
            inside = True
            continue
        if inside and line.strip() and not _is_any_label(line, rules):
            continue
        inside = False
        kept.append(line)
    return "\n".join(kept)


def _mask_echo(text: str, rules: Rules) -> str:
    """Without quoted segments holding our token: «[TG-...] the employee's summary»."""
    out: list[str] = []
    for line in text.split("\n"):
        found = rules.token.search(line)
        while found is not None:
            opened = max(line.rfind(q, 0, found.start()) for q in '«"“')
            closing = _QUOTE_CLOSE.search(line, found.end())
            if opened < 0 or closing is None:
                break
            line = line[:opened] + " " + line[closing.end() :]
            found = rules.token.search(line, opened)
        out.append(line)
    return "\n".join(out)


def _subject_view(subject: str, rules: Rules) -> str:
    # InfraManager echoes our ticket email's subject ("[TG-...] the employee's summary") in
    # its own: from our token on, the words are the employee's, never a status.
    found = rules.token.search(subject)
    return subject[: found.start()] if found else subject


def _split_texts(subject: str, body: str, rules: Rules) -> _Texts:
    body = body[:MAX_TEXT_CHARS]
    own = _mask_echo(_drop_summary(_cut_history(body, rules), rules), rules)
    return _Texts(
        subject=_subject_view(subject, rules),
        own=own,
        unquoted=_QUOTED_LINE.sub("", body),
        whole=body,
    )


def _distinct(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


@dataclass(frozen=True, slots=True)
class _Reading:
    status: TicketStatus
    raw: str
    how: str  # for --explain: which form and label
    phrase: str | None  # which status name matched (None: unknown)


def _strip_quotes(value: str) -> str:
    value = value.strip().strip(":").strip()
    opened = _QUOTE_OPEN.match(value)
    if opened:
        closing = _QUOTE_CLOSE.search(value, opened.end())
        if closing:
            return value[opened.end() : closing.start()].strip()
        return value[opened.end() :].strip()
    return value


def _clean_value(value: str, rules: Rules) -> str:
    value = _LEADING_SEPARATORS.sub("", value)
    for pattern in rules.from_to:
        found = pattern.match(value)
        if found is not None:
            value = found.group("new")
            break
    value = _strip_quotes(value)
    value = _VALUE_END.split(value, maxsplit=1)[0]
    return _one_line(value, MAX_RAW_STATUS_CHARS).strip(" -–—")


def _negated(text: str, start: int, rules: Rules) -> bool:
    if rules.negated_before is None:
        return False
    return bool(rules.negated_before.search(text[max(0, start - 60) : start]))


def _classify(value: str, rules: Rules, *, sentence: bool) -> tuple[TicketStatus, str] | None:
    """The status a name means: the phrase nearest the start, ties to the first listed."""
    best: tuple[int, int, TicketStatus, str] | None = None
    for order, phrase in enumerate(rules.phrases):
        regex = phrase.sentence if sentence else phrase.regex
        if regex is None:
            continue
        for found in regex.finditer(value):
            if _negated(value, found.start(), rules):
                continue
            candidate = (found.start(), order, phrase.status, found.group(0))
            if best is None or candidate[:2] < best[:2]:
                best = candidate
            break
    return None if best is None else (best[2], best[3])


def _read_value(value: str, how: str, rules: Rules) -> _Reading | None:
    raw = _clean_value(value, rules)
    if not raw or (rules.negation_only and rules.negation_only.match(raw)):
        return None
    found = _classify(raw, rules, sentence=False)
    if found is None:
        return _Reading(TicketStatus.UNKNOWN, raw, how, None)
    return _Reading(found[0], raw, how, found[1])


def _read_sentence(value: str, how: str, rules: Rules) -> _Reading | None:
    # A sentence counts only if the status name comes first ("выполнена", "не выполнена"):
    # "Заявка №1 Новый монитор" or "Заявка №1 содержит..." say nothing about the status.
    head = _strip_quotes(value) if _QUOTE_OPEN.match(value.strip()) else value.strip()
    head = _VALUE_END.split(head, maxsplit=1)[0]
    best: tuple[int, TicketStatus, str] | None = None
    negated: str | None = None
    for order, phrase in enumerate(rules.phrases):
        if phrase.sentence is None:
            continue
        for found in phrase.sentence.finditer(head):
            before = head[: found.start()]
            if before.strip():
                if (
                    rules.negated_before is not None
                    and rules.negated_before.match(before.lstrip()) is not None
                ):
                    negated = head[: found.end()]
                break
            if best is None or order < best[0]:
                best = (order, phrase.status, found.group(0))
            break
    if best is not None:
        return _Reading(best[1], _one_line(best[2], MAX_RAW_STATUS_CHARS), how, best[2])
    if negated is not None:
        return _Reading(TicketStatus.UNKNOWN, _one_line(negated, MAX_RAW_STATUS_CHARS), how, None)
    return None


def _read_status(text: str, rules: Rules, *, subject: bool) -> _Reading | None:
    line_rule = rules.label_anywhere if subject else rules.label_line
    for found in line_rule.finditer(text):
        reading = _read_value(found.group("value"), f"label:{_words(found.group('label'))}", rules)
        if reading is not None:
            return reading
    if rules.changed_line is not None:
        for found in rules.changed_line.finditer(text):
            how = f"changed:{_words(found.group('label'))}"
            reading = _read_value(found.group("value"), how, rules)
            # Prose may follow "статус изменён" too: only a status name (negated or not) counts.
            if reading is not None and (
                reading.phrase is not None
                or any(p.regex.search(reading.raw) for p in rules.phrases)
            ):
                return reading
    if rules.noun_sentence is not None:
        for found in rules.noun_sentence.finditer(text):
            how = f"sentence:{_words(found.group('noun'))}"
            reading = _read_sentence(found.group("value"), how, rules)
            if reading is not None:
                return reading
    if not subject:
        # A label inside a line ("Заявке присвоен статус «В работе»"): a status name only.
        for found in rules.label_anywhere.finditer(text):
            how = f"label-in-line:{_words(found.group('label'))}"
            reading = _read_value(found.group("value"), how, rules)
            if reading is not None and reading.phrase is not None:
                return reading
    return None


def _words(text: str) -> str:
    return " ".join(text.lower().split())


def _read_comment(text: str, rules: Rules) -> tuple[str, str] | None:
    """The engineer's text after a comment label, to the first empty line or next label."""
    if rules.comment_line is None:
        return None
    lines = text.split("\n")
    for index, line in enumerate(lines):
        found = rules.comment_line.match(line)
        if found is None:
            continue
        first = _LEADING_SEPARATORS.sub("", found.group("value")).strip()
        collected = [first] if first else []
        for following in lines[index + 1 :]:
            if not following.strip():
                if collected:
                    break
                continue
            if _is_any_label(following, rules) or (
                rules.end_marker is not None and rules.end_marker.match(following)
            ):
                break
            collected.append(following.strip())
        comment = "\n".join(collected).strip()
        if comment:
            return _words(found.group("label")), comment[:MAX_COMMENT_CHARS]
    return None


def _find_numbers(texts: _Texts, rules: Rules) -> tuple[str | None, tuple[str, ...], str | None]:
    found: list[str] = []
    first: tuple[str, str] | None = None
    for where, text in (("subject", texts.subject), ("body", texts.unquoted)):
        for rule in rules.numbers:
            if rule.scope not in ("any", where):
                continue
            for match in rule.regex.finditer(text):
                number = match.group("number")[:MAX_NUMBER_CHARS]
                found.append(number)
                if first is None:
                    first = (number, rule.name)
    return (first[0] if first else None), _distinct(found), (first[1] if first else None)


def _find_tokens(subject: str, texts: _Texts, rules: Rules) -> tuple[str | None, tuple[str, ...]]:
    in_subject = _distinct(m.group(0).upper() for m in rules.token.finditer(subject))
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


def parse_message(
    raw: bytes, rules: Rules, *, headers_only: bool = False, now: datetime | None = None
) -> ParsedMail:
    """Read one email. `headers_only`: `raw` is just the header block (TOP of a large mail).
    `now`: a Date further in the future than that (plus a tolerance) is ignored."""
    try:
        return _parse(raw, rules, headers_only=headers_only, now=now)
    except Exception as exc:  # the promise is a result, not an exception, for any input
        return parse_headers_only(
            raw, rules, f"parse-error:{type(exc).__name__}", headers_only=headers_only
        )


def parse_headers_only(
    raw: bytes, rules: Rules, problem: str, *, headers_only: bool = False
) -> ParsedMail:
    """What the header block of an unreadable mail still says: who sent it, and about what
    (so an operator sees an InfraManager mail as unparseable, not as an outsider's)."""
    try:
        head = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(
            raw[:MAX_HEADER_BYTES]
        )
        subject, _ = decode_header_value(head.get("Subject"), rules.fallback_charsets)
        sender, _ = decode_header_value(head.get("From"), rules.fallback_charsets)
        found = rules.token.findall(subject[:MAX_TEXT_CHARS])
        return ParsedMail(
            subject=subject[:MAX_TEXT_CHARS],
            sender=sender[:MAX_TEXT_CHARS],
            from_addresses=from_addresses([str(v) for v in head.get_all("From") or ()]),
            auth_results=tuple(
                _one_line(str(v), 2000) for v in (head.get_all("Authentication-Results") or ())
            ),
            token=found[0].upper() if len(set(found)) == 1 else None,
            problems=(problem,),
            size=len(raw),
            headers_only=headers_only,
        )
    except Exception:
        return ParsedMail(problems=(problem,), size=len(raw), headers_only=headers_only)


def _parse(raw: bytes, rules: Rules, *, headers_only: bool, now: datetime | None) -> ParsedMail:
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    head = _read_head(msg, rules.fallback_charsets, now)
    subject, problems = head.subject, head.problems
    body = ""
    if not headers_only:
        body, body_problems = _read_body(msg, rules.fallback_charsets)
        problems += body_problems
    texts = _split_texts(subject, body, rules)
    matched: dict[str, str] = {}

    token, tokens = _find_tokens(subject, texts, rules)
    number, numbers, number_rule = _find_numbers(texts, rules)
    if number_rule:
        matched["number"] = number_rule

    status: TicketStatus | None = None
    raw_status: str | None = None
    reading = _find_status(subject, texts, rules)
    if reading is not None:
        status, raw_status = reading.status, reading.raw
        matched["status"] = reading.how
        if reading.phrase is not None:
            matched["status_name"] = f"{reading.status.value}:{_words(reading.phrase)}"

    comment: str | None = None
    comment_hit = _read_comment(texts.own, rules)
    if comment_hit is not None:
        matched["comment"], comment = comment_hit

    message_ids = _ids(_header(msg, "Message-ID"))
    reply_ids = _ids(_header(msg, "In-Reply-To")) + list(reversed(_ids(_header(msg, "References"))))
    return ParsedMail(
        subject=subject,
        sender=head.sender,
        from_addresses=from_addresses([str(v) for v in msg.get_all("From") or ()]),
        auth_results=_auth_results(msg),
        message_id=message_ids[0] if message_ids else None,
        reply_to_ids=_distinct(reply_ids),
        date=head.date,
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


@dataclass(frozen=True, slots=True)
class _Head:
    """The decoded headers a notification is read by, and what was wrong with them."""

    subject: str
    sender: str
    date: datetime | None
    problems: list[str]
    """The message's own MIME defects first, then the subject's, the sender's and the date's."""


def _read_head(msg: Message, fallbacks: Sequence[str], now: datetime | None) -> _Head:
    problems: list[str] = [f"mime-defect:{type(d).__name__}" for d in msg.defects]
    subject, subject_problems = decode_header_value(msg.get("Subject"), fallbacks)
    sender, sender_problems = decode_header_value(msg.get("From"), fallbacks)
    date, date_problems = _date(_header(msg, "Date"))
    if date is not None and now is not None and date > now + FUTURE_TOLERANCE:
        date, date_problems = None, ["future-date"]
    problems += subject_problems + sender_problems + date_problems
    return _Head(subject, sender, date, problems)


def _read_body(msg: Message, fallbacks: Sequence[str]) -> tuple[str, list[str]]:
    """The readable text, and the problems of reading it: its own, then the parts' defects."""
    body, body_problems = body_text(msg, fallbacks)
    problems = list(body_problems)
    for part in msg.walk():
        if part is not msg:
            problems += [f"mime-defect:{type(d).__name__}" for d in part.defects]
    if not body:
        problems.append("no-text")
    return body, problems


def _find_status(subject: str, texts: _Texts, rules: Rules) -> _Reading | None:
    # A reply quotes old notifications (often without "> ") and its subject is the old one:
    # only its own text counts.
    is_reply = rules.reply_subject is not None and bool(rules.reply_subject.search(subject))
    reading = _read_status(texts.own, rules, subject=False)
    if reading is None and not is_reply:
        reading = _read_status(texts.subject, rules, subject=True)
        if reading is not None:
            reading = _Reading(
                reading.status, reading.raw, "subject " + reading.how, reading.phrase
            )
    return reading


def _auth_results(msg: Message) -> tuple[str, ...]:
    """The first Authentication-Results headers, each on one line."""
    return tuple(
        _one_line(str(v), 2000) for v in (msg.get_all("Authentication-Results") or ())[:20]
    )
