"""From raw mail bytes to readable text: headers, charsets, MIME parts, HTML.

Lenient on purpose: InfraManager installations, relays and people forwarding mail produce
undeclared charsets, raw 8-bit headers and broken multiparts. Nothing here raises on bad input;
what went wrong is reported as a list of short problem strings.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from email.header import decode_header
from email.message import Message
from html.parser import HTMLParser

FORWARD_MARK = "---------- Forwarded message ----------"
"""Put before the text of an attached message (message/rfc822): it reads as a forwarded part."""

MAX_DEPTH = 20
MAX_PART_CHARS = 1_000_000
_CYRILLIC_LOWER = re.compile(r"[а-яё]")
_CYRILLIC_UPPER = re.compile(r"[А-ЯЁ]")
_SPACES = re.compile(r"[ \t\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_FOLD = re.compile(r"\r?\n[ \t]+")
_UNDECLARED = frozenset(("unknown-8bit", "x-unknown", "8bit", "unknown"))
"""Labels meaning "some 8-bit charset": raw UTF-8 is valid (RFC 6532), anything else a guess."""


def _score(text: str) -> int:
    # Russian prose is mostly lower case. koi8-r and cp1251 swap the cases of each other's
    # letters, so the wrong guess reads as mostly capitals: that tells them apart.
    return len(_CYRILLIC_LOWER.findall(text)) - len(_CYRILLIC_UPPER.findall(text))


def decode_bytes(
    data: bytes, charset: str | None, fallbacks: Sequence[str]
) -> tuple[str, str | None]:
    """Decode with the declared charset, else the best fallback; returns (text, problem)."""
    problem = None
    if charset and charset not in _UNDECLARED:
        try:
            name = codecs.lookup(charset).name
        except LookupError:
            problem = f"unknown-charset:{charset}"
        else:
            text = data.decode(name, "replace")
            bad = text.count("\ufffd")
            if not bad:
                return text, None
            problem = f"bad-bytes-for-charset:{charset}"
            # Some broken bytes among well-decoded text are damage (a truncated part, say);
            # next to nothing decoding well means the label is wrong: guess instead.
            decoded = sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")
            if bad <= decoded:
                return text, problem
    if data.isascii():
        return data.decode("ascii"), problem
    candidates: list[tuple[int, str, str]] = []
    for fallback in fallbacks:
        try:
            text = data.decode(fallback)
        except (UnicodeDecodeError, LookupError):
            continue
        if codecs.lookup(fallback).name == "utf-8":
            return text, problem  # valid utf-8 is never a coincidence in Russian text
        candidates.append((_score(text), fallback, text))
    if candidates:
        best = max(candidates, key=lambda c: c[0])  # first of equals: the configured order
        return best[2], problem or f"guessed-charset:{best[1]}"
    return data.decode("utf-8", "replace"), problem or "undecodable-bytes"


def decode_header_value(value: object, fallbacks: Sequence[str]) -> tuple[str, list[str]]:
    """An RFC 2047 (or raw 8-bit) header as text on one line; returns (text, problems)."""
    if value is None:
        return "", []
    problems: list[str] = []
    try:
        chunks = decode_header(value)  # type: ignore[arg-type]  # str or email.header.Header
    except Exception:  # a malformed encoded word: keep the header as it came
        return _one_line(str(value)), ["bad-encoded-header"]
    parts: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            text = chunk
            if any("\udc80" <= ch <= "\udcff" for ch in text):  # raw 8-bit bytes kept as escapes
                raw = text.encode("utf-8", "surrogateescape")
                text, problem = decode_bytes(raw, None, fallbacks)
                problems += [problem] if problem else []
        else:
            text, problem = decode_bytes(chunk, charset, fallbacks)
            problems += [problem] if problem else []
        parts.append(text)
    return _one_line("".join(parts)), problems


def _one_line(text: str) -> str:
    return _SPACES.sub(" ", _FOLD.sub(" ", text).replace("\r", " ").replace("\n", " ")).strip()


def _is_attachment(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";", 1)[0].strip().lower()
    return disposition == "attachment"


def _part_text(part: Message, fallbacks: Sequence[str], problems: list[str]) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    text, problem = decode_bytes(payload, part.get_content_charset(), fallbacks)
    if problem:
        problems.append(problem)
    if len(text) > MAX_PART_CHARS:
        # A notification is a few KB; a 10 MB part is junk or an attack, and reading all of it
        # would hold up every mail after it. Its start is kept.
        text = text[:MAX_PART_CHARS]
        problems.append("part-truncated")
    if part.get_content_type() == "text/html":
        return html_to_text(text)
    return normalise_text(text)


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def _collect(
    part: Message, fallbacks: Sequence[str], problems: list[str], out: list[str], depth: int
) -> None:
    if depth > MAX_DEPTH:
        problems.append("mime-too-deep")
        return
    ctype = part.get_content_type()
    if ctype == "message/rfc822":
        for inner in _children(part):
            out.append(FORWARD_MARK)
            _collect_message(inner, fallbacks, problems, out, depth + 1)
        return
    if ctype.startswith("multipart/") and isinstance(part.get_payload(), str):
        # The boundary never came: the whole body is one blob. Read it as text rather than
        # lose it (the MIME defect is reported by the caller).
        text = _part_text(part, fallbacks, problems)
        if text.strip():
            out.append(text)
        return
    if part.is_multipart():
        children = _children(part)
        if ctype == "multipart/alternative" and children:
            _collect_alternative(children, fallbacks, problems, out, depth)
        else:
            for child in children:
                _collect(child, fallbacks, problems, out, depth + 1)
        return
    if ctype in ("text/plain", "text/html") and not _is_attachment(part):
        text = _part_text(part, fallbacks, problems)
        if text.strip():
            out.append(text)


def _collect_alternative(
    children: list[Message],
    fallbacks: Sequence[str],
    problems: list[str],
    out: list[str],
    depth: int,
) -> None:
    # Plain text is what the sender meant to be read; some mailers send an empty one next to
    # the HTML, so an empty plain part falls through to the richest other part.
    for child in children:
        if child.get_content_type() == "text/plain":
            plain: list[str] = []
            _collect(child, fallbacks, problems, plain, depth + 1)
            if plain:
                out.extend(plain)
                return
    for child in reversed(children):
        rich: list[str] = []
        _collect(child, fallbacks, problems, rich, depth + 1)
        if rich:
            out.extend(rich)
            return


def _collect_message(
    msg: Message, fallbacks: Sequence[str], problems: list[str], out: list[str], depth: int
) -> None:
    # An attached message shows its subject, which often holds the number and the status.
    subject, _ = decode_header_value(msg.get("Subject"), fallbacks)
    if subject:
        out.append(f"Subject: {subject}")
    _collect(msg, fallbacks, problems, out, depth)


def body_text(msg: Message, fallbacks: Sequence[str]) -> tuple[str, list[str]]:
    """The readable text of a message (attachments skipped); returns (text, problems)."""
    problems: list[str] = []
    out: list[str] = []
    _collect(msg, fallbacks, problems, out, 0)
    return "\n\n".join(out).strip(), problems


def normalise_text(text: str) -> str:
    """LF line ends, ordinary spaces, no trailing blanks, at most one empty line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).rstrip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if not line and out and not out[-1]:
            continue
        out.append(line)
    return "\n".join(out).strip()


class _HtmlText(HTMLParser):
    _BLOCK = frozenset(
        {"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt"}
        | {"fieldset", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6"}
        | {"header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table"}
        | {"tbody", "thead", "tfoot", "tr", "ul"}
    )
    # Paragraph-like blocks are set apart by an empty line (rules end a comment there).
    _PARAGRAPH = frozenset(
        {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl", "blockquote", "hr"}
    )
    _SKIP = frozenset(("script", "style", "head", "title", "noscript", "template"))
    _CELL = frozenset(("td", "th"))

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self._current: list[str] = []
        self._quote = 0
        self._skip = 0

    def _break(self, tag: str) -> None:
        text = _SPACES.sub(" ", "".join(self._current)).strip()
        self._current = []
        if text:
            self.lines.append((self._quote, text))
        if tag in self._PARAGRAPH and self.lines and self.lines[-1][1]:
            self.lines.append((self._quote, ""))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip += 1
        elif tag in self._BLOCK:
            self._break(tag)
            if tag == "blockquote":
                self._quote += 1
        elif tag in self._CELL:
            # "Статус | В работе": a table row reads like a labelled line.
            before = "".join(self._current).strip()
            self._current.append(" | " if before and not before.endswith((":", "|")) else " ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCK:
            self._break(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCK:
            self._break(tag)
            if tag == "blockquote":
                self._quote = max(0, self._quote - 1)

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._current.append(data.replace("\n", " "))

    def text(self) -> str:
        self._break("")
        return "\n".join(("> " * depth + line) if line else "" for depth, line in self.lines)


def html_to_text(html: str) -> str:
    """Visible text of an HTML body, a line per block; <blockquote> lines start with "> "."""
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # the stdlib parser is lenient; this is a last resort for odd input
        return normalise_text(re.sub(r"<[^>]*>", " ", html))
    return normalise_text(parser.text())
