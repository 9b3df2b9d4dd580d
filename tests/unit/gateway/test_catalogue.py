"""The category catalogue file: format, inheritance, validation, reload."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpdesk_gateway.domain.catalogue import (
    CatalogueHolder,
    bundled_catalogue_path,
    load_catalogue,
    parse_catalogue,
)
from helpdesk_gateway.errors import CatalogueError

SAMPLE = """
version: 1
categories:
  - code: printers
    title: {ru: Принтеры, en: Printers}
    routing_text: "Сервис: Печать"
    children:
      - code: printers.jam
        title: {ru: Замятие бумаги, en: Paper jam}
      - code: printers.toner
        title: Картридж
        routing_text: "Сервис: Расходники"
  - code: other
    title: {ru: Другое}
"""


def test_the_bundled_catalogue_is_valid() -> None:
    catalogue = load_catalogue(bundled_catalogue_path())
    assert len(catalogue.roots) >= 3
    for entry in catalogue.leaves():
        assert catalogue.to_contract(entry.code).title


def test_two_levels_with_titles_per_language_and_inherited_routing_text() -> None:
    catalogue = parse_catalogue(SAMPLE)
    assert [e.code for e in catalogue.children(None)] == ["printers", "other"]
    assert [e.code for e in catalogue.children("printers")] == ["printers.jam", "printers.toner"]
    assert catalogue.path_title("printers.jam", "ru") == "Принтеры › Замятие бумаги"
    assert catalogue.path_title("printers.jam", "en") == "Printers › Paper jam"
    # English falls back to Russian; one string serves every language.
    assert catalogue.path_title("other", "en") == "Другое"
    assert catalogue.path_title("printers.toner", "en") == "Printers › Картридж"
    jam = catalogue.to_contract("printers.jam")
    assert (jam.title, jam.parent_title, jam.routing_text) == (
        "Замятие бумаги",
        "Принтеры",
        "Сервис: Печать",
    )
    assert catalogue.to_contract("printers.toner").routing_text == "Сервис: Расходники"
    assert catalogue.get("printers") is not None and not catalogue.get("printers").is_leaf  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("categories: [", "not valid YAML"),
        ("categories: []", "categories"),
        ("categories:\n  - {code: Bad Code, title: x}", "code"),
        ("categories:\n  - {code: a, title: x}\n  - {code: a, title: y}", "used twice"),
        ("categories:\n  - {code: a, title: {en: Only English}}", "Russian title"),
        ("categories:\n  - {code: a, title: x, colour: red}", "colour"),
        (
            "categories:\n  - code: a\n    title: x\n    children:\n      - code: b\n"
            "        title: y\n        children: [{code: c, title: z}]",
            "two levels",
        ),
    ],
)
def test_invalid_files_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(text)


def test_a_bad_reload_keeps_the_previous_catalogue(tmp_path: Path) -> None:
    path = tmp_path / "categories.yaml"
    path.write_text(SAMPLE, encoding="utf-8")
    holder = CatalogueHolder(path)
    path.write_text("categories: [", encoding="utf-8")
    with pytest.raises(CatalogueError):
        holder.reload()
    assert holder.current.get("printers.jam") is not None
    path.write_text("categories:\n  - {code: network, title: Сеть}", encoding="utf-8")
    assert [e.code for e in holder.reload().children(None)] == ["network"]
    assert holder.current.get("printers.jam") is None


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "nope.yaml")
