"""Clean user text before it reaches an email: headers get one line, bodies get plain lines.

The email package refuses CR/LF in header values already; cleaning first means a hostile value
becomes harmless text instead of an exception, and invisible tricks (bidi overrides, lone
surrogates, NUL) never reach InfraManager.
"""

from __future__ import annotations

import re
import unicodedata
from email.errors import HeaderParseError
from email.header import decode_header, make_header

# Bidi embedding/override/isolate controls: they can make a subject read differently than it is.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Unicode line and paragraph separators break lines in some readers like CR/LF would.
_LINE_BREAKS = frozenset("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")


def _dropped(char: str) -> bool:
    category = unicodedata.category(char)
    # Cc: control characters, Cs: lone surrogates (not encodable), Co/Cn: private/unassigned.
    # Cf (format) stays except bidi controls: ZWJ and variation selectors build emoji.
    return char in _BIDI or category in ("Cc", "Cs", "Co", "Cn")


def one_line(value: str | None) -> str:
    """Text for a header: every line break becomes a space, controls go, spaces collapse."""
    if not value:
        return ""
    chars = [" " if c in _LINE_BREAKS or c == "\t" else c for c in value]
    text = "".join(c for c in chars if not _dropped(c))
    return _SPACES.sub(" ", text).strip()


_DECODE_ROUNDS = 3
"""An encoded word may hide another; a few rounds uncover any a person would bother nesting."""


def decoded_words(value: str) -> str:
    """The text a mail reader shows for `value`: RFC 2047 encoded words decoded, repeatedly.

    Python's email package writes a value that contains `=?utf-8?q?...?=` so that the receiver
    decodes it again, so what InfraManager reads is the decoded text, not what was cleaned.
    """
    for _ in range(_DECODE_ROUNDS):
        if "=?" not in value:
            break
        try:
            decoded = str(make_header(decode_header(value)))
        except (HeaderParseError, LookupError, UnicodeError, ValueError):
            break  # not decodable here; the "=?" is broken up below for laxer readers
        if decoded == value:
            break
        value = decoded
    return value


def header(value: str | None) -> str:
    """Text for a header value built from user text: decoded first, then cleaned to one line.

    Any `=?` left (an encoded word Python cannot decode but a lax reader might) is broken up,
    so no receiver can turn it into a line break, NUL or a bidi control after the cleaning.
    """
    if not value:
        return ""
    return one_line(decoded_words(value)).replace("=?", "= ?")


def multi_line(value: str | None) -> str:
    """Text for a body: line ends normalised to LF, other controls removed, tabs kept."""
    if not value:
        return ""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join("\n" if c in _LINE_BREAKS else c for c in text)
    text = "".join(c for c in text if c in "\n\t" or not _dropped(c))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut to at most `limit` characters, at a word boundary when one is near the end."""
    if len(text) <= limit:
        return text
    cut = text[: max(1, limit - len(ellipsis))]
    space = cut.rfind(" ")
    if space >= len(cut) * 2 // 3:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-–—") + ellipsis


_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|]+')


def filename(value: str, fallback: str) -> str:
    """A file name safe in a MIME parameter and on any receiver's disk."""
    name = _UNSAFE_FILENAME.sub("_", header(value)).strip(" .")
    return truncate(name, 128, ellipsis="") if name else fallback
