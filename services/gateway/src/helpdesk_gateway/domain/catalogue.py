"""The category catalogue: a YAML file of categories and sub-categories, reloadable at run time.

File format (version 1)::

    version: 1
    categories:
      - code: printers                      # [a-z0-9_.-], at most 40 characters, unique
        title: {ru: Принтеры и МФУ, en: Printers and MFPs}   # or one string for every language
        routing_text: "Сервис: Печать"      # optional; added to the email for InfraManager
        children:                           # optional; a category with children is a menu
          - code: printers.jam
            title: {ru: Замятие бумаги, en: Paper jam}
            routing_text: "..."             # optional; inherits the parent's when absent

Two levels at most. A category without children can be chosen directly. Russian titles are
required (InfraManager's staff read them); English ones fall back to Russian.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import yaml
from helpdesk_contracts.base import Locale
from helpdesk_contracts.ticket.v1 import Category
from helpdesk_gateway.errors import CatalogueError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

MAX_CODE_LENGTH = 40  # the code travels in callback data, which Telegram caps at 64 bytes

_Code = Annotated[str, StringConstraints(pattern=rf"^[a-z0-9_.-]{{1,{MAX_CODE_LENGTH}}}$")]
_Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class _EntryFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: _Code
    title: _Title | dict[Locale, _Title]
    routing_text: Annotated[str, StringConstraints(max_length=1000)] | None = None
    children: list[_EntryFile] = Field(default_factory=list)


class _CatalogueFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    categories: list[_EntryFile] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Entry:
    code: str
    titles: dict[Locale, str]
    routing_text: str | None
    parent: str | None
    children: tuple[str, ...]

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def title(self, locale: Locale) -> str:
        return self.titles.get(locale) or self.titles["ru"]


class Catalogue:
    """Categories by code, in file order."""

    def __init__(self, entries: list[Entry]) -> None:
        self._entries = {entry.code: entry for entry in entries}
        self.roots = tuple(entry.code for entry in entries if entry.parent is None)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, code: str | None) -> Entry | None:
        return self._entries.get(code) if code else None

    def children(self, code: str | None) -> list[Entry]:
        """The choices under a category, or the top level for None."""
        if code is None:
            return [self._entries[c] for c in self.roots]
        entry = self._entries.get(code)
        return [self._entries[c] for c in entry.children] if entry else []

    def leaves(self) -> list[Entry]:
        return [entry for entry in self._entries.values() if entry.is_leaf]

    def path_title(self, code: str, locale: Locale) -> str:
        """`Parent › Child` as the user sees it."""
        entry = self._entries[code]
        parent = self.get(entry.parent)
        return f"{parent.title(locale)} › {entry.title(locale)}" if parent else entry.title(locale)

    def to_contract(self, code: str) -> Category:
        """The category as the ticket event carries it: Russian titles, for InfraManager."""
        entry = self._entries[code]
        parent = self.get(entry.parent)
        return Category(
            code=entry.code,
            title=entry.title("ru"),
            parent_title=parent.title("ru") if parent else None,
            routing_text=entry.routing_text,
        )


def parse_catalogue(text: str, *, source: str = "catalogue") -> Catalogue:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{source}: not valid YAML: {exc}") from exc
    try:
        model = _CatalogueFile.model_validate(raw)
    except ValidationError as exc:
        raise CatalogueError(f"{source}: {_first_errors(exc)}") from exc
    entries: list[Entry] = []
    for root in model.categories:
        entries.append(_entry(root, parent=None, inherited=None, source=source))
        for child in root.children:
            if child.children:
                raise CatalogueError(f"{source}: {child.code}: only two levels are allowed")
            entries.append(
                _entry(child, parent=root.code, inherited=root.routing_text, source=source)
            )
    seen: set[str] = set()
    for entry in entries:
        if entry.code in seen:
            raise CatalogueError(f"{source}: code {entry.code!r} is used twice")
        seen.add(entry.code)
    return Catalogue(entries)


def load_catalogue(path: Path) -> Catalogue:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return parse_catalogue(text, source=str(path))


def bundled_catalogue_path() -> Path:
    return Path(__file__).resolve().parent.parent / "data" / "categories.yaml"


class CatalogueHolder:
    """The current catalogue; `reload` swaps it only when the new file is valid."""

    def __init__(self, path: Path | None) -> None:
        self.path = path or bundled_catalogue_path()
        self.current = load_catalogue(self.path)

    def reload(self) -> Catalogue:
        self.current = load_catalogue(self.path)
        return self.current


def _entry(node: _EntryFile, *, parent: str | None, inherited: str | None, source: str) -> Entry:
    titles: dict[Locale, str] = (
        dict(node.title) if isinstance(node.title, dict) else {"ru": node.title, "en": node.title}
    )
    if "ru" not in titles:
        raise CatalogueError(f"{source}: {node.code}: a Russian title is required")
    return Entry(
        code=node.code,
        titles=titles,
        routing_text=node.routing_text if node.routing_text is not None else inherited,
        parent=parent,
        children=tuple(child.code for child in node.children),
    )


def _first_errors(exc: ValidationError, limit: int = 3) -> str:
    parts = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(p) for p in error["loc"])
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)
