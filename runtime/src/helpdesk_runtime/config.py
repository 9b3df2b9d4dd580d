"""Fail fast on bad configuration: one readable line per missing, invalid or placeholder setting.

`load_settings(AuthSettings)` builds a service's settings from its environment (and
`/run/secrets`); when something is wrong it prints every problem, each naming the environment
variable to fix (one JSON log line listing them, or one text line each with
HELPDESK_LOG_FORMAT=text), and exits with status 78 (EX_CONFIG) instead of a pydantic
traceback. Values are never echoed: a rejected secret must not reach a log.

A placeholder is a value copied from `.env.example` and never replaced: it contains `changeme` /
`CHANGE_ME` / `replace_me` (any case, `_`, `-` or nothing between the words), is a whole
`<...>` (e.g. `<bot token from @BotFather>`), or contains an angle-bracketed word such as
`amqp://helpdesk:<password>@rabbitmq/`.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

from pydantic import BaseModel, SecretBytes, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

EX_CONFIG = 78
"""sysexits.h: configuration error. Distinguishes "fix your settings" from a crash."""

_PLACEHOLDER_WORDS = re.compile(
    r"(?<![a-z0-9])(?:change|replace)[-_ ]?me(?![a-z0-9])", re.IGNORECASE
)
_WHOLE_BRACKETED = re.compile(r"^<[^<>]+>$")
_BRACKETED_WORD = re.compile(r"<[^<>@\s][^<>@]*>")


@dataclass(frozen=True, slots=True)
class EnvVariable:
    """One environment variable a settings class reads."""

    name: str
    owner: type[BaseSettings]
    field: str
    info: FieldInfo

    @property
    def required(self) -> bool:
        return self.info.is_required()

    @property
    def secret(self) -> bool:
        return _is_secret_annotation(self.info.annotation)


def env_variables(cls: type[BaseSettings]) -> list[EnvVariable]:
    """Every variable `cls` reads, nested settings (e.g. `infra` -> HELPDESK_*) included.

    A field whose type is itself a BaseSettings is built by its own default factory from its own
    prefix, so its variables are listed under that prefix rather than as one JSON variable.
    """
    variables: list[EnvVariable] = []
    for field_name, info in cls.model_fields.items():
        nested = _nested_settings(info)
        if nested is not None:
            variables += env_variables(nested)
        else:
            variables.append(EnvVariable(_env_name(cls, field_name, info), cls, field_name, info))
    return variables


def is_placeholder(value: str) -> bool:
    """True for a value that was obviously meant to be replaced."""
    text = value.strip()
    return bool(
        _PLACEHOLDER_WORDS.search(text)
        or _WHOLE_BRACKETED.match(text)
        or _BRACKETED_WORD.search(text)
    )


def settings_problems[S: BaseSettings](cls: type[S]) -> tuple[S | None, list[str]]:
    """Build `cls` from the environment; return it (or None) and every problem found.

    Nested settings are built first and on their own, so one broken HELPDESK_* variable does not
    hide the service's own problems: an operator fixes everything in one round.
    """
    problems: list[str] = []
    nested_values: dict[str, Any] = {}
    for field_name, info in cls.model_fields.items():
        nested = _nested_settings(info)
        if nested is None:
            continue
        try:
            nested_values[field_name] = nested()
        except ValidationError as exc:
            problems += _describe(exc, nested)
            # Unvalidated defaults stand in, so the outer class still reports its own problems.
            nested_values[field_name] = nested.model_construct()
    settings: S | None = None
    try:
        settings = cls(**nested_values)
    except ValidationError as exc:
        problems += _describe(exc, cls)
    if problems:
        return None, problems
    assert settings is not None  # noqa: S101 - no problems means the build succeeded
    return settings, placeholder_problems(settings)


def placeholder_problems(settings: BaseSettings) -> list[str]:
    """One line per setting whose value is still a placeholder (the value is not shown)."""
    problems = []
    for name, value in _settings_values(settings):
        if any(is_placeholder(text) for text in _texts(value)):
            problems.append(f"{name}: still a placeholder value; set the real one")
    return problems


def load_settings[S: BaseSettings](cls: type[S], *, program: str | None = None) -> S:
    """The settings, or exit 78 after printing one line per problem to stderr."""
    settings, problems = settings_problems(cls)
    if settings is not None and not problems:
        return settings
    name = program or _program_name()
    if os.environ.get("HELPDESK_LOG_FORMAT", "json").strip().lower() == "text":
        lines = [f"{name}: cannot start, fix these settings (environment or /run/secrets):"]
        lines += [f"{name}: {problem}" for problem in problems]
        print("\n".join(lines), file=sys.stderr, flush=True)
    else:
        # Logging is not configured yet (its settings are among those being loaded), so the one
        # line is written here, shaped like every other log line of the service.
        line = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": "critical",
            "service": name.removeprefix("helpdesk-"),
            "logger": "helpdesk.config",
            "message": "cannot start, fix these settings (environment or /run/secrets)",
            "problems": problems,
        }
        print(json.dumps(line, ensure_ascii=False), file=sys.stderr, flush=True)
    raise SystemExit(EX_CONFIG)


def _program_name() -> str:
    argv0 = PurePath(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return argv0 if argv0.startswith("helpdesk") else "helpdesk"


def _nested_settings(info: FieldInfo) -> type[BaseSettings] | None:
    annotation = info.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
        return annotation
    return None


def _env_name(cls: type[BaseSettings], field_name: str, info: FieldInfo) -> str:
    alias = info.validation_alias if isinstance(info.validation_alias, str) else info.alias
    if alias:
        return alias.upper()
    prefix = str(cls.model_config.get("env_prefix") or "")
    return f"{prefix}{field_name}".upper()


def _describe(exc: ValidationError, cls: type[BaseSettings]) -> list[str]:
    """Readable lines for a ValidationError; never includes the rejected input."""
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        loc = error["loc"]
        message = str(error["msg"]).removeprefix("Value error, ")
        if not loc:
            lines.append(f"{cls.__name__}: {message}")
            continue
        field_name = str(loc[0])
        info = cls.model_fields.get(field_name)
        name = _env_name(cls, field_name, info) if info is not None else field_name.upper()
        if error["type"] == "missing" and len(loc) == 1:
            lines.append(f"{name}: required but not set")
            continue
        where = "".join(f"[{part}]" for part in loc[1:])
        lines.append(f"{name}{where}: {message}")
    return lines


def _settings_values(settings: BaseSettings) -> Iterator[tuple[str, Any]]:
    cls = type(settings)
    for field_name, info in cls.model_fields.items():
        value = getattr(settings, field_name)
        if isinstance(value, BaseSettings):
            yield from _settings_values(value)
        else:
            yield _env_name(cls, field_name, info), value


def _texts(value: Any) -> Iterator[str]:
    """Every piece of text inside a setting's value (secrets unwrapped, containers walked)."""
    if value is None or isinstance(value, bool | int | float):
        return
    if isinstance(value, SecretStr):
        yield value.get_secret_value()
    elif isinstance(value, SecretBytes):
        yield value.get_secret_value().decode(errors="replace")
    elif isinstance(value, str):
        yield value
    elif isinstance(value, BaseModel):
        for item in value.__dict__.values():
            yield from _texts(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _texts(item)
    else:
        yield str(value)  # paths, URLs, enums: their text is what the operator typed


def _is_secret_annotation(annotation: Any) -> bool:
    if annotation in (SecretStr, SecretBytes):
        return True
    return any(_is_secret_annotation(arg) for arg in getattr(annotation, "__args__", ()))
