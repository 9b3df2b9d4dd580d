"""Locale files: complete in both languages, kebab-case, and every text the code asks for exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpdesk_contracts.auth.v1 import RejectReason
from helpdesk_contracts.ticket.v1 import ReplyKind, TicketStatus
from helpdesk_gateway.bot.runner import COMMANDS
from helpdesk_gateway.domain import photos
from helpdesk_gateway.errors import LocaleError
from helpdesk_gateway.i18n import I18n, fields_of, pick_locale

PACKAGE = Path(__file__).resolve().parents[3] / "services/gateway/src/helpdesk_gateway"
# t("key", ...) and ("key") as in (step, "button-edit-step") tables; not t("prefix-" + ...).
LITERAL_KEY = re.compile(
    r"""\bt\(\s*"([a-z0-9-]+[a-z0-9])"(?!\s*\+)|\(\s*"([a-z0-9]+(?:-[a-z0-9]+)+)"\s*\)"""
)


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n.load()


def _keys_used_in_code() -> set[str]:
    keys: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if path.name == "i18n.py":  # its docstring shows t("key") as an example
            continue
        for match in LITERAL_KEY.finditer(path.read_text(encoding="utf-8")):
            keys.add(match.group(1) or match.group(2))
    return keys


def test_every_literal_key_in_the_code_has_a_text_in_both_languages(i18n: I18n) -> None:
    used = _keys_used_in_code()
    assert len(used) > 80  # the scan really found the handlers' texts
    ru, en = i18n.texts("ru"), i18n.texts("en")
    missing = sorted(key for key in used if not (ru.has(key) and en.has(key)))
    assert missing == []


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_keys_built_at_run_time_exist(i18n: I18n, locale: str) -> None:
    t = i18n.texts("ru" if locale == "ru" else "en")
    built = [f"command-{c}" for c in COMMANDS]
    built += [
        f"reject-{r.value.replace('_', '-')}"
        for r in RejectReason
        if r is not RejectReason.WRONG_CODE
    ]
    built += [f"status-{s.value.replace('_', '-')}" for s in TicketStatus]
    built += [f"notify-status-{s.value.replace('_', '-')}" for s in TicketStatus]
    reasons = [photos.NOT_AN_IMAGE, photos.CORRUPTED, photos.TOO_MANY_PIXELS, photos.CANNOT_FIT]
    built += [f"photo-{r}" for r in [*reasons, photos.TOO_LARGE]]
    built += [f"conversation-{p.value}-failed" for p in ReplyKind]
    assert [key for key in built if not t.has(key)] == []


def test_russian_is_the_default_and_english_speakers_get_english() -> None:
    assert pick_locale(None) == "ru"
    assert pick_locale("ru") == "ru"
    assert pick_locale("uk") == "ru"
    assert pick_locale("en") == "en"
    assert pick_locale("en-GB") == "en"


def test_texts_fill_their_fields(i18n: I18n) -> None:
    assert i18n.texts("ru")("photo-progress", done=2, total=3) == "Фото 2 из 3 сохранено…"
    assert i18n.texts("en")("photo-progress", done=2, total=3) == "Photo 2 of 3 saved…"


def test_a_reply_button_is_recognised_in_every_language(i18n: I18n) -> None:
    assert i18n.variants("menu-new-ticket") == {"📝 Новая заявка", "📝 New ticket"}


def test_a_translation_with_other_fields_is_refused() -> None:
    with pytest.raises(LocaleError, match="fields of 'greeting' differ"):
        I18n({"ru": {"greeting": "Привет, {name}"}, "en": {"greeting": "Hello, {who}"}})


def test_a_missing_or_extra_key_is_refused() -> None:
    with pytest.raises(LocaleError, match=r"en: missing 'a'.*en: unknown 'b'"):
        I18n({"ru": {"a": "А"}, "en": {"b": "B"}})


def test_keys_must_be_kebab_case() -> None:
    with pytest.raises(LocaleError, match="not kebab-case"):
        I18n({"ru": {"Bad_Key": "x"}, "en": {"Bad_Key": "x"}})


def test_an_unknown_key_names_itself(i18n: I18n) -> None:
    with pytest.raises(LocaleError, match="no-such-text"):
        i18n.texts("ru")("no-such-text")


def test_fields_of_a_template() -> None:
    assert fields_of("{a} и {b}, {a}") == {"a", "b"}


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (1, "1 символ"),
        (2, "2 символа"),
        (4, "4 символа"),
        (5, "5 символов"),
        (11, "11 символов"),
        (21, "21 символ"),
        (22, "22 символа"),
        (111, "111 символов"),
        (0, "0 символов"),
    ],
)
def test_russian_numbers_agree_with_their_nouns(n: int, text: str) -> None:
    spec = "{n:plural:one=# символ|few=# символа|many=# символов|other=# символа}"
    i18n = I18n({"ru": {"k": spec}, "en": {"k": "{n:plural:one=# character|other=# characters}"}})
    assert i18n.texts("ru")("k", n=n) == text
    assert i18n.texts("en")("k", n=n) == f"{n} character" + ("" if n == 1 else "s")


def test_the_bundled_texts_use_the_plural_rules(i18n: I18n) -> None:
    ru = i18n.texts("ru")
    assert ru("reject-wrong-code-left", attempts=1) == "Код неверный. Осталась 1 попытка."
    assert ru("reject-wrong-code-left", attempts=3) == "Код неверный. Осталось 3 попытки."
    assert ru("wizard-description-too-long", length=4001, max=4000) == (
        "Описание слишком длинное: 4001 символ, а можно не больше 4000 символов. "
        "Сократите, пожалуйста."
    )
    assert ru("notify-photos-omitted", omitted=2) == (
        "2 фото не поместились в письмо — в письме для ИТ-поддержки указано, каких фото не хватает."
    )


def test_a_plural_without_every_form_of_the_language_is_refused() -> None:
    with pytest.raises(LocaleError, match=r"lacks plural forms \['few', 'many'\]"):
        I18n({"ru": {"k": "{n:plural:one=# x|other=# x}"}, "en": {"k": "{n}"}})
