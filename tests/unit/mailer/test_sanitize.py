"""Cleaning of user text for headers and bodies."""

from __future__ import annotations

import pytest
from helpdesk_mailer import sanitize


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Принтер\r\nBcc: x@y", "Принтер Bcc: x@y"),
        ("a\nb\rc\u2028d\u2029e\x85f\x0bg", "a b c d e f g"),
        ("  many   \t spaces\u00a0 ", "many spaces"),
        ("nul\x00 esc\x1b del\x7f", "nul esc del"),
        ("bidi \u202eevil\u202c \u2066x\u2069", "bidi evil x"),
        ("lone \ud800 surrogate", "lone surrogate"),
        ("emoji 👨‍💻 ❤️ stays", "emoji 👨‍💻 ❤️ stays"),
        (None, ""),
        ("", ""),
    ],
)
def test_one_line(raw: str | None, clean: str) -> None:
    assert sanitize.one_line(raw) == clean


def test_multi_line_keeps_lines_and_tabs_but_not_controls() -> None:
    raw = "\r\nfirst\r\nsecond\rthird\u2028fourth\t(tab)  \n\x00\x1b[31mred\n\n"
    assert sanitize.multi_line(raw) == "first\nsecond\nthird\nfourth\t(tab)\n[31mred"
    assert sanitize.multi_line(None) == ""


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("exactly ten", 11, "exactly ten"),
        ("one two three four five", 14, "one two three…"),
        ("unbreakablewordthatgoeson", 10, "unbreakab…"),
        ("word, another", 8, "word…"),
    ],
)
def test_truncate(text: str, limit: int, expected: str) -> None:
    result = sanitize.truncate(text, limit)
    assert result == expected
    assert len(result) <= limit


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("фото 1.jpg", "фото 1.jpg"),
        ("../../etc/passwd", "_.._etc_passwd"),
        ('a<b>:"c"|?*.png', "a_b_c_.png"),
        ("\r\n", "photo-1.jpg"),
        ("...", "photo-1.jpg"),
    ],
)
def test_filename(raw: str, expected: str) -> None:
    assert sanitize.filename(raw, "photo-1.jpg") == expected


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("=?utf-8?q?a=0D=0ABcc:_x@y?=", "a Bcc: x@y"),
        ("=?utf-8?b?0J/RgNC40L3RgtC10YAA4oCu?=", "Принтер"),
        ("=?utf-8?b?PT91dGYtOD9xP249MEQ9MEF4Pz0=?=", "n x"),  # a q-word inside a b-word
        ("before =?utf-8?q?=E2=80=AEmid?= after", "before mid after"),
        ("=?nonsense?q?=0D?= stays", "= ?nonsense?q?=0D?= stays"),
        ("plain text, no words", "plain text, no words"),
        (None, ""),
    ],
)
def test_header_decodes_encoded_words_before_cleaning(raw: str | None, clean: str) -> None:
    assert sanitize.header(raw) == clean
