"""Parser behaviour beyond the corpus: it never raises, decodes what it can, reads HTML sanely."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from helpdesk_inbox.mime import decode_bytes, html_to_text
from helpdesk_inbox.parse import ParsedMail, parse_message
from helpdesk_inbox.rules import Rules, load_rules

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules()


@pytest.mark.parametrize("mail", sorted(CORPUS.glob("*.eml")), ids=lambda p: p.stem)
def test_truncated_and_damaged_mail_gives_a_result(mail: Path, rules: Rules) -> None:
    raw = mail.read_bytes()
    rnd = random.Random(mail.name)
    variants = [raw[:cut] for cut in (0, 1, 17, len(raw) // 3, len(raw) // 2, len(raw) - 1)]
    for _ in range(5):
        damaged = bytearray(raw)
        for _ in range(10):
            damaged[rnd.randrange(len(damaged))] = rnd.randrange(256)
        variants.append(bytes(damaged))
    for variant in variants:
        parsed = parse_message(variant, rules)
        assert isinstance(parsed, ParsedMail)
        assert parsed.size == len(variant)
        assert not any(p.startswith("parse-error") for p in parsed.problems), parsed.problems


def test_cp1251_and_koi8r_are_told_apart_without_a_label() -> None:
    text = "Заявка выполнена, картридж заменён."
    for charset in ("cp1251", "koi8-r"):
        decoded, problem = decode_bytes(text.encode(charset), None, ("utf-8", "cp1251", "koi8-r"))
        assert decoded == text
        assert problem == f"guessed-charset:{charset}"


def test_a_wrong_label_falls_back_to_a_guess() -> None:
    text = "Статус: Закрыта"
    decoded, problem = decode_bytes(text.encode("cp1251"), "utf-8", ("utf-8", "cp1251", "koi8-r"))
    assert decoded == text
    assert problem == "bad-bytes-for-charset:utf-8"


def test_html_blocks_become_lines_and_quotes_are_marked() -> None:
    html = (
        "<html><head><style>p{}</style><script>alert('Статус: Закрыта')</script></head><body>"
        "<div>Статус:&nbsp;<b>В&nbsp;работе</b></div><div>Исполнитель: Петров</div>"
        "<p>Первый абзац<br/>вторая строка</p><p>Второй абзац</p>"
        "<table><tr><td>Номер</td><td>12345</td></tr></table>"
        "<blockquote><p>Старое: Закрыта</p><blockquote>Совсем старое</blockquote></blockquote>"
        "<p>&lt;не тег&gt; &amp; &#8470;5</p></body></html>"
    )
    assert html_to_text(html) == (
        "Статус: В работе\nИсполнитель: Петров\n\nПервый абзац\nвторая строка\n\n"
        "Второй абзац\n\nНомер | 12345\n\n> Старое: Закрыта\n\n> > Совсем старое\n\n"
        "<не тег> & №5"
    )


def test_a_status_found_only_in_quoted_lines_is_not_taken(rules: Rules) -> None:
    mail = (
        "Subject: Заявка №12345 [TG-7F3A2C]\nContent-Type: text/plain; charset=utf-8\n\n"
        "Спасибо!\n> Статус: Выполнена\n"
    ).encode()
    parsed = parse_message(mail, rules)
    assert (parsed.token, parsed.number, parsed.status) == ("TG-7F3A2C", "12345", None)


def test_a_long_comment_is_cut_to_what_the_contract_allows(rules: Rules) -> None:
    mail = (
        "Subject: [TG-7F3A2C]\nContent-Type: text/plain; charset=utf-8\n\n"
        f"Статус: Выполнена\nКомментарий: {'слово ' * 2000}\n"
    ).encode()
    parsed = parse_message(mail, rules)
    assert parsed.status == "resolved"
    assert parsed.comment is not None
    assert len(parsed.comment) == 4000


def test_a_mail_too_deep_to_parse_still_says_who_sent_it() -> None:
    nested = b"".join(
        f"--b{d}\nContent-Type: multipart/mixed; boundary=b{d + 1}\n\n".encode()
        for d in range(3000)
    )
    raw = (
        b"From: InfraManager <im@example.com>\nSubject: [TG-7F3A2C] x\n"
        b"Content-Type: multipart/mixed; boundary=b0\n\n" + nested
    )
    parsed = parse_message(raw, load_rules())

    assert parsed.problems[0].startswith("parse-error:")
    assert parsed.from_addresses == ("im@example.com",)
    assert (parsed.token, parsed.status) == ("TG-7F3A2C", None)
