"""The parser's rules: a TOML (or JSON) file of regexes, checked and compiled once.

The format is documented in the shipped `default_rules.toml`; a rules file replaces it as a
whole, so what the parser does is always readable in one place.
"""

from __future__ import annotations

import codecs
import json
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from helpdesk_contracts.ticket.v1 import TicketStatus
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from helpdesk_inbox.errors import RulesError

FLAGS = re.IGNORECASE | re.MULTILINE
DEFAULT_RULES_FILE = "default_rules.toml"

Scope = Literal["any", "subject", "body"]
_Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
_Pattern = Annotated[str, StringConstraints(min_length=1, max_length=4000)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PatternRule(_Model):
    name: _Name
    pattern: _Pattern
    scope: Scope = "any"


class StatusRule(PatternRule):
    status: TicketStatus | None = Field(
        default=None, description="Fixed status; None: look the caught text up in status_name."
    )


class StatusName(_Model):
    name: _Name
    pattern: _Pattern
    status: TicketStatus


class RulesFile(_Model):
    """The file as written; see default_rules.toml for what each part means."""

    version: Literal[1] = 1
    fallback_charsets: tuple[str, ...] = ("utf-8", "cp1251", "koi8-r")
    token: _Pattern
    auto_reply_subject: _Pattern | None = None
    reply_subject: _Pattern | None = None
    quote_separators: tuple[_Pattern, ...] = ()
    number: tuple[PatternRule, ...]
    status: tuple[StatusRule, ...]
    status_name: tuple[StatusName, ...]
    comment: tuple[PatternRule, ...] = ()


@dataclass(frozen=True, slots=True)
class Compiled:
    name: str
    regex: re.Pattern[str]
    scope: Scope = "any"
    status: TicketStatus | None = None


@dataclass(frozen=True, slots=True)
class Rules:
    """Compiled rules, ready for `parse_message`. Build with `load_rules` or `compile_rules`."""

    source: str
    fallback_charsets: tuple[str, ...]
    token: re.Pattern[str]
    auto_reply_subject: re.Pattern[str] | None
    reply_subject: re.Pattern[str] | None
    quote_separators: tuple[re.Pattern[str], ...]
    numbers: tuple[Compiled, ...]
    statuses: tuple[Compiled, ...]
    status_names: tuple[Compiled, ...]
    comments: tuple[Compiled, ...]


def _compile(pattern: str, where: str, group: str | None = None) -> re.Pattern[str]:
    try:
        regex = re.compile(pattern, FLAGS)
    except re.error as exc:
        raise RulesError(f"{where}: bad regex: {exc}") from None
    if group is not None and group not in regex.groupindex:
        raise RulesError(f"{where}: the pattern needs a group named (?P<{group}>...)")
    return regex


def _compile_rules(rules: tuple[PatternRule, ...], kind: str, group: str) -> tuple[Compiled, ...]:
    return tuple(
        Compiled(
            name=rule.name,
            regex=_compile(rule.pattern, f"{kind} rule {rule.name!r}", group),
            scope=rule.scope,
            status=rule.status if isinstance(rule, StatusRule) else None,
        )
        for rule in rules
    )


def compile_rules(file: RulesFile, *, source: str) -> Rules:
    """Check every regex (and its named group) and compile it; raise RulesError on the first bad."""
    for charset in file.fallback_charsets:
        try:
            codecs.lookup(charset)
        except LookupError:
            raise RulesError(f"fallback_charsets: unknown charset {charset!r}") from None
    return Rules(
        source=source,
        fallback_charsets=file.fallback_charsets,
        token=_compile(file.token, "token"),
        auto_reply_subject=(
            _compile(file.auto_reply_subject, "auto_reply_subject")
            if file.auto_reply_subject
            else None
        ),
        reply_subject=(
            _compile(file.reply_subject, "reply_subject") if file.reply_subject else None
        ),
        quote_separators=tuple(
            _compile(p, f"quote_separators[{i}]") for i, p in enumerate(file.quote_separators)
        ),
        numbers=_compile_rules(file.number, "number", "number"),
        statuses=_compile_rules(file.status, "status", "status"),
        status_names=tuple(
            Compiled(
                name=entry.name,
                regex=_compile(entry.pattern, f"status_name {entry.name!r}"),
                status=entry.status,
            )
            for entry in file.status_name
        ),
        comments=_compile_rules(file.comment, "comment", "comment"),
    )


def default_rules_text() -> str:
    """The shipped rules file, as text (what `helpdesk-inbox default-rules` prints)."""
    return resources.files("helpdesk_inbox").joinpath(DEFAULT_RULES_FILE).read_text("utf-8")


def parse_rules_text(text: str, *, fmt: Literal["toml", "json"], source: str) -> Rules:
    try:
        data: Any = tomllib.loads(text) if fmt == "toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise RulesError(f"{source}: not valid {fmt.upper()}: {exc}") from None
    try:
        file = RulesFile.model_validate(data)
    except ValidationError as exc:
        raise RulesError(f"{source}: {exc}") from None
    try:
        return compile_rules(file, source=source)
    except RulesError as exc:
        raise RulesError(f"{source}: {exc}") from None


def load_rules(path: Path | None = None) -> Rules:
    """The rules in `path` (.toml or .json), or the shipped defaults when path is None."""
    if path is None:
        return parse_rules_text(default_rules_text(), fmt="toml", source="default rules")
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise RulesError(f"cannot read rules file {path}: {exc.strerror or exc}") from None
    fmt: Literal["toml", "json"] = "json" if path.suffix.lower() == ".json" else "toml"
    return parse_rules_text(text, fmt=fmt, source=str(path))
