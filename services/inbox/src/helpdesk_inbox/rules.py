"""The parser's rules: a TOML (or JSON) vocabulary of regexes, checked and compiled once.

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


_Fragments = tuple[_Pattern, ...]


class Vocabulary(_Model):
    """The words of status lines and sentences; see default_rules.toml for each part."""

    labels: _Fragments = Field(min_length=1)
    filler: _Pattern = "(?:)"
    separators: _Fragments = Field(min_length=1)
    changed_to: _Fragments = ()
    nouns: _Fragments = ()
    verbs: _Fragments = ()
    from_to: _Fragments = ()
    negations: _Fragments = ()
    summary_labels: _Fragments = ()
    comment_labels: _Fragments = ()
    end_markers: _Fragments = ()


class Phrase(_Model):
    status: TicketStatus
    names: _Fragments = ()
    label_only: _Fragments = ()


class RulesFile(_Model):
    """The file as written; see default_rules.toml for what each part means."""

    version: Literal[2] = 2
    fallback_charsets: tuple[str, ...] = ("utf-8", "cp1251", "koi8-r")
    token: _Pattern
    auto_reply_subject: _Pattern | None = None
    reply_subject: _Pattern | None = None
    quote_separators: tuple[_Pattern, ...] = ()
    number: tuple[PatternRule, ...]
    vocabulary: Vocabulary
    phrase: tuple[Phrase, ...] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Compiled:
    name: str
    regex: re.Pattern[str]
    scope: Scope = "any"


@dataclass(frozen=True, slots=True)
class CompiledPhrase:
    status: TicketStatus
    regex: re.Pattern[str]  # any name, at the start of a word
    sentence: re.Pattern[str] | None  # the names that also count in a sentence


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
    label_line: re.Pattern[str]  # group `label`, `value`
    label_anywhere: re.Pattern[str]  # in a subject: a label and separator anywhere
    changed_line: re.Pattern[str] | None  # group `label`, `value`
    noun_sentence: re.Pattern[str] | None  # group `noun`, `value`
    from_to: tuple[re.Pattern[str], ...]
    negated_before: re.Pattern[str] | None  # matches the end of the text before a phrase
    negation_only: re.Pattern[str] | None  # the text is just a negation
    summary_line: re.Pattern[str] | None
    comment_line: re.Pattern[str] | None  # group `label`, `value`
    end_marker: re.Pattern[str] | None
    phrases: tuple[CompiledPhrase, ...]


def _compile(pattern: str, where: str, group: str | None = None) -> re.Pattern[str]:
    try:
        regex = re.compile(pattern, FLAGS)
    except re.error as exc:
        raise RulesError(f"{where}: bad regex: {exc}") from None
    if group is not None and group not in regex.groupindex:
        raise RulesError(f"{where}: the pattern needs a group named (?P<{group}>...)")
    return regex


def _alternatives(fragments: tuple[str, ...], where: str) -> str:
    """Fragments as one non-capturing alternation; each is checked on its own first."""
    for i, fragment in enumerate(fragments):
        regex = _compile(fragment, f"{where}[{i}]")
        if regex.groups:
            raise RulesError(f"{where}[{i}]: use (?:...) instead of capturing groups")
    # Longer first: "новое состояние" before "состояние" where both could start a match.
    ordered = sorted(fragments, key=len, reverse=True)
    return "(?:" + "|".join(f"(?:{f})" for f in ordered) + ")"


def _compile_numbers(rules: tuple[PatternRule, ...]) -> tuple[Compiled, ...]:
    return tuple(
        Compiled(
            name=rule.name,
            regex=_compile(rule.pattern, f"number rule {rule.name!r}", "number"),
            scope=rule.scope,
        )
        for rule in rules
    )


_VALUE = r"[ \t]*(?P<value>[^\n]*)"
_BULLET = r"^[ \t]*(?:[-*•·>]+[ \t]*)?"


def _compile_vocabulary(v: Vocabulary) -> dict[str, Any]:
    labels = _alternatives(v.labels, "vocabulary.labels")
    filler = _compile(v.filler, "vocabulary.filler").pattern
    separators = _alternatives(v.separators, "vocabulary.separators")
    out: dict[str, Any] = {
        "label_line": _compile(
            f"{_BULLET}(?P<label>{labels})(?:{filler})[ \t]*{separators}{_VALUE}",
            "vocabulary.labels",
        ),
        "label_anywhere": _compile(
            f"(?<!\\w)(?P<label>{labels})(?:{filler})[ \t]*{separators}{_VALUE}",
            "vocabulary.labels",
        ),
        "changed_line": None,
        "noun_sentence": None,
        "negated_before": None,
        "negation_only": None,
        "summary_line": None,
        "comment_line": None,
        "end_marker": None,
    }
    if v.changed_to:
        changed = _alternatives(v.changed_to, "vocabulary.changed_to")
        out["changed_line"] = _compile(
            f"(?<!\\w)(?P<label>{labels})(?:{filler})[ \t]*{changed}{_VALUE}",
            "vocabulary.changed_to",
        )
    if v.nouns:
        nouns = _alternatives(v.nouns, "vocabulary.nouns")
        verbs = _alternatives(v.verbs, "vocabulary.verbs") if v.verbs else "(?!)"
        out["noun_sentence"] = _compile(
            f"(?<!\\w)(?P<noun>{nouns})(?:{filler})[ \t,:]*(?:{verbs}(?!\\w))?{_VALUE}",
            "vocabulary.nouns",
        )
    if v.negations:
        negations = _alternatives(v.negations, "vocabulary.negations")
        out["negated_before"] = _compile(
            f"(?<!\\w){negations}[ \t]+(?:[\\w-]+[ \t]+){{0,2}}$", "vocabulary.negations"
        )
        out["negation_only"] = _compile(f"^\\s*{negations}\\s*$", "vocabulary.negations")
    if v.summary_labels:
        summary = _alternatives(v.summary_labels, "vocabulary.summary_labels")
        out["summary_line"] = _compile(
            f"{_BULLET}(?:{summary})[ \t]*[:：\\-–—|][^\\n]*$", "vocabulary.summary_labels"
        )
    if v.comment_labels:
        comments = _alternatives(v.comment_labels, "vocabulary.comment_labels")
        out["comment_line"] = _compile(
            f"{_BULLET}(?P<label>{comments})[ \t]*[:：]{_VALUE}", "vocabulary.comment_labels"
        )
    if v.end_markers:
        out["end_marker"] = _compile(
            _alternatives(v.end_markers, "vocabulary.end_markers"), "vocabulary.end_markers"
        )
    out["from_to"] = tuple(
        _compile(p, f"vocabulary.from_to[{i}]", "new") for i, p in enumerate(v.from_to)
    )
    return out


def _compile_phrase(phrase: Phrase, index: int) -> CompiledPhrase:
    where = f"phrase[{index}] ({phrase.status.value})"
    names = (*phrase.names, *phrase.label_only)
    if not names:
        raise RulesError(f"{where}: no names")
    sentence = (
        _compile(f"(?<!\\w){_alternatives(phrase.names, where)}", where) if phrase.names else None
    )
    return CompiledPhrase(
        status=phrase.status,
        regex=_compile(f"(?<!\\w){_alternatives(names, where)}", where),
        sentence=sentence,
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
        numbers=_compile_numbers(file.number),
        phrases=tuple(_compile_phrase(p, i) for i, p in enumerate(file.phrase)),
        **_compile_vocabulary(file.vocabulary),
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
