"""JSON-lines logging with the ids that let an operator follow one message across services."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, SecretBytes, SecretStr

_context: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "helpdesk_log_context", default=MappingProxyType({})
)

_HANDLER_NAME = "helpdesk-json"

_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys() | {"message", "asctime"}
)


@contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Add fields (message_id, correlation_id, ticket reference, ...) to every log line inside."""
    merged = {**_context.get(), **{k: v for k, v in fields.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


def bind_log_context(**fields: str | None) -> None:
    """Add fields to the current task's log context (until the task ends)."""
    _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})


MASK = "***"

# A Telegram bot token, bare or in a Bot API / file URL (`.../bot<token>/...`).
_BOT_TOKEN = re.compile(r"(?<![0-9])[0-9]{5,}:[A-Za-z0-9_-]{30,}")
# The password of `scheme://user:password@host`.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/?#@]*:)([^\s/?#@]+)(@)")
_MIN_SECRET_LENGTH = 4
"""Shorter configured values are not masked: they would blank out ordinary words."""


class SecretMasker:
    """Replaces bot tokens, URL passwords and configured secret values with `***`."""

    def __init__(self) -> None:
        self._values: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def add(self, values: Iterable[str]) -> None:
        with self._lock:
            known = set(self._values)
            for value in values:
                for candidate in _secret_forms(value):
                    if len(candidate) >= _MIN_SECRET_LENGTH:
                        known.add(candidate)
            # Longest first, so a URL is masked whole before its password alone.
            self._values = tuple(sorted(known, key=len, reverse=True))

    def clear(self) -> None:
        with self._lock:
            self._values = ()

    def mask(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        text = _URL_PASSWORD.sub(rf"\g<1>{MASK}\g<3>", text)
        return _BOT_TOKEN.sub(MASK, text)


def _secret_forms(value: str) -> list[str]:
    """The value itself and, for a URL with credentials, its password as typed and decoded."""
    forms = [value]
    try:
        password = urlsplit(value).password if "://" in value else None
    except ValueError:
        password = None
    if password:
        forms += [password, unquote(password)]
    return forms


def secret_values(settings: BaseModel) -> list[str]:
    """Every SecretStr/SecretBytes value of a settings object, nested settings included."""
    found: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name, None)
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, SecretBytes):
            found.append(value.get_secret_value().decode(errors="replace"))
        elif isinstance(value, BaseModel):
            found += secret_values(value)
    return [v for v in found if v]


masker = SecretMasker()
"""The process-wide masker: every log record passes it, whichever handler writes it."""

_factory_lock = threading.Lock()
_factory_installed = False


def register_secrets(*settings: BaseModel) -> None:
    """Mask these settings' secret values in every log record from now on."""
    for item in settings:
        masker.add(secret_values(item))


def _install_record_factory() -> None:
    """Mask each record once, where it is made, so no handler or formatter can see the secret.

    A handler filter would protect only that handler (pytest's capture, a host's handlers and
    library handlers would still get the raw text); the record factory runs for every record
    that passed the level check. Tracebacks are formatted here too, masked, and kept in
    `exc_text`, which every standard formatter prints instead of formatting `exc_info` again.
    """
    global _factory_installed
    with _factory_lock:
        if _factory_installed:
            return
        previous = logging.getLogRecordFactory()
        plain = logging.Formatter()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            try:
                message = record.getMessage()
            except Exception:  # a bad format string must not lose the record
                message = f"{record.msg!r} {record.args!r}"
            record.msg, record.args = masker.mask(message), None
            if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
                record.exc_text = masker.mask(plain.formatException(record.exc_info))
            if record.stack_info:
                record.stack_info = masker.mask(record.stack_info)
            return record

        logging.setLogRecordFactory(factory)
        _factory_installed = True


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_context.get())
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                line[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = masker.mask(self.formatException(record.exc_info))
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        # Fields bound by handlers (`extra=`) did not pass the record factory.
        return masker.mask(json.dumps(line, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__(f"%(asctime)s %(levelname)s {service} %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        ctx = _context.get()
        return masker.mask(f"{text} {ctx}" if ctx else text)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time, and reports its own failures masked.

    The standard `handleError` prints the current exception chain, and a record logged in an
    `except` block has the exception being handled in that chain, unmasked.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:
        if not logging.raiseExceptions:
            return
        error = sys.exc_info()[1]
        with contextlib.suppress(Exception):
            sys.__stderr__.write(  # type: ignore[union-attr]
                masker.mask(f"--- logging error: {error!r} in a record from {record.name}\n")
            )


def configure_logging(
    service: str,
    *,
    level: str = "INFO",
    fmt: str = "json",
    secrets_from: Iterable[BaseModel] = (),
) -> None:
    """Send all logs to stderr as JSON lines (or text for local reading).

    Bot tokens, passwords in URLs and the secret values of `secrets_from` (the service's
    settings) are masked in every record, its traceback included, whichever handler writes it.
    """
    register_secrets(*secrets_from)
    _install_record_factory()
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter(service) if fmt == "json" else TextFormatter(service))
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    # Replace only our own handler, so a host (pytest's log capture, say) keeps its handlers.
    root.handlers[:] = [h for h in root.handlers if h.get_name() != _HANDLER_NAME]
    root.addHandler(handler)
    root.setLevel(level)
    # Library chatter that would otherwise repeat connection details at INFO.
    for noisy in ("aiormq", "aio_pika", "pymongo"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
