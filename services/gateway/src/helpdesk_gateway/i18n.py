"""Bot texts from locale files: `locales/<locale>.yaml`, flat kebab-case keys, `{name}` fields.

Numbers agree with their nouns by CLDR plural rules (Babel): a field written
`{n:plural:one=# символ|few=# символа|many=# символов|other=# символа}` picks the form for n's
plural category in the text's language (`#` is the number). Every category the language has
must be given (checked at load); English has `one` and `other`.

Russian is the default; English is used for users whose Telegram language is English. Both files
must have the same keys and the same fields per key (checked at load), so a missing translation is
a start-up error rather than a surprise in a user's chat.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from typing import get_args

import yaml
from babel import Locale as BabelLocale
from helpdesk_contracts.base import Locale

from helpdesk_gateway.errors import LocaleError

DEFAULT_LOCALE: Locale = "ru"
LOCALES: tuple[Locale, ...] = get_args(Locale)
_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PLURAL = "plural:"


def _plural_forms(spec: str) -> dict[str, str]:
    """`one=# символ|few=# символа|...` as {category: form}."""
    forms: dict[str, str] = {}
    for part in spec.split("|"):
        category, sep, form = part.partition("=")
        if not sep:
            raise LocaleError(f"plural form {part!r} is not category=text")
        forms[category.strip()] = form
    return forms


class _Formatter(string.Formatter):
    """str.format with the `plural:` format spec."""

    def __init__(self, locale: Locale) -> None:
        self.rules = BabelLocale.parse(locale).plural_form

    def format_field(self, value: object, format_spec: str) -> str:
        if not format_spec.startswith(PLURAL):
            return str(super().format_field(value, format_spec))
        if not isinstance(value, int):
            raise LocaleError(f"a plural field needs a whole number, not {type(value).__name__}")
        forms = _plural_forms(format_spec.removeprefix(PLURAL))
        form = forms.get(self.rules(value), forms.get("other", ""))
        return form.replace("#", str(value))


def plural_problems(locale: Locale, template: str) -> list[str]:
    """Plural fields of a text that miss one of the language's categories, or are malformed."""
    needed = set(BabelLocale.parse(locale).plural_form.tags) | {"other"}
    problems = []
    for _, name, spec, _ in string.Formatter().parse(template):
        if name and spec and spec.startswith(PLURAL):
            try:
                missing = needed - _plural_forms(spec.removeprefix(PLURAL)).keys()
            except LocaleError as exc:
                problems.append(f"field {name!r}: {exc}")
                continue
            if missing:
                problems.append(f"field {name!r} lacks plural forms {sorted(missing)}")
    return problems


def pick_locale(language_code: str | None) -> Locale:
    """English for English-speaking Telegram clients, Russian for everyone else."""
    if language_code and language_code.lower().split("-")[0] == "en":
        return "en"
    return DEFAULT_LOCALE


def fields_of(template: str) -> frozenset[str]:
    """The `{name}` fields a text uses."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


class Texts:
    """The texts of one locale: `t("key", name=value)`."""

    def __init__(self, locale: Locale, table: Mapping[str, str]) -> None:
        self.locale = locale
        self._table = table
        self._formatter = _Formatter(locale)

    def __call__(self, key: str, /, **fields: object) -> str:
        try:
            template = self._table[key]
        except KeyError:
            raise LocaleError(f"no text {key!r} in locale {self.locale}") from None
        return self._formatter.format(template, **fields) if fields else template

    def has(self, key: str) -> bool:
        return key in self._table


class I18n:
    """All locales, checked against each other."""

    def __init__(self, tables: Mapping[Locale, Mapping[str, str]]) -> None:
        problems = _problems(tables)
        if problems:
            raise LocaleError("; ".join(problems))
        self._texts = {locale: Texts(locale, tables[locale]) for locale in LOCALES}

    @classmethod
    def load(cls, directory: Traversable | None = None) -> I18n:
        """Read `<locale>.yaml` for every locale from a directory (the bundled one by default)."""
        root = directory or resources.files("helpdesk_gateway") / "locales"
        tables: dict[Locale, dict[str, str]] = {}
        for locale in LOCALES:
            path = root / f"{locale}.yaml"
            try:
                raw = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (OSError, yaml.YAMLError) as exc:
                raise LocaleError(f"cannot read {path}: {exc}") from exc
            if not isinstance(raw, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
            ):
                raise LocaleError(f"{path} must map text keys to strings")
            tables[locale] = raw
        return cls(tables)

    def texts(self, locale: Locale) -> Texts:
        return self._texts[locale]

    def variants(self, key: str) -> frozenset[str]:
        """A text in every locale: reply-keyboard buttons are matched against all of them."""
        return frozenset(texts(key) for texts in self._texts.values())


def _problems(tables: Mapping[Locale, Mapping[str, str]]) -> list[str]:
    problems: list[str] = []
    missing = [locale for locale in LOCALES if locale not in tables]
    if missing:
        return [f"locales missing: {', '.join(missing)}"]
    reference = tables[DEFAULT_LOCALE]
    for locale in LOCALES:
        table = tables[locale]
        problems += [
            f"{locale}: key {key!r} is not kebab-case" for key in table if not _KEY.match(key)
        ]
        problems += [
            f"{locale}: {key!r}: {problem}"
            for key, text in table.items()
            for problem in plural_problems(locale, text)
        ]
        if locale == DEFAULT_LOCALE:
            continue
        for key in sorted(reference.keys() - table.keys()):
            problems.append(f"{locale}: missing {key!r}")
        for key in sorted(table.keys() - reference.keys()):
            problems.append(f"{locale}: unknown {key!r}")
        for key in sorted(reference.keys() & table.keys()):
            if fields_of(reference[key]) != fields_of(table[key]):
                problems.append(f"{locale}: fields of {key!r} differ from {DEFAULT_LOCALE}")
    return problems
