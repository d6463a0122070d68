"""Renderers: each turns a Deck into its output. They see cards, never tokens.

One protocol for every output, and one registry: ``FORMATS`` is the only list of formats
(the config's default and its check, the CLI's ``--format`` help and choices come from it).
A renderer module is imported only when its format is used or its settings are checked, so
``--help`` stays fast. To add an output: a module with a class that has ``check`` and
``render`` (below), and one ``Format`` line here. docs/ARCHITECTURE.md has the whole flow.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the registry is read by --help: it imports nothing it does not need
    from deckgen.atomic import Staging
    from deckgen.errors import Diagnostic, Location
    from deckgen.model import Deck


@dataclass(frozen=True)
class Target:
    """Where and how a renderer writes: everything it may use besides the deck."""

    out: Path
    """The output folder; a renderer writes nothing outside it."""
    slug: str
    """The deck's file-name stem: a renderer's files are ``out/<slug><suffix>``."""
    staging: Staging
    """Files are staged here, and committed with every other output and the lock, or not at
    all (deckgen.atomic)."""
    settings: dict[str, Any] = field(default_factory=dict)
    """This format's table in deckgen.toml (already checked by the renderer's ``check``)."""
    templates: Path | None = None
    """The bank's own templates folder (trusted banks only), else None."""
    cache: Path | None = None
    """A folder the renderer may keep its caches in (inside the output folder)."""
    description: str | None = None
    note_types: dict[str, int] | None = None
    """Anki note-type ids of a bank with its own templates (from its lock file)."""
    progress: Callable[..., None] | None = None
    """For a long render: ``progress(done, total, label, phase="Typesetting cards")``."""

    def path(self, suffix: str) -> Path:
        return self.out / f"{self.slug}{suffix}"


@dataclass
class Report:
    """What a renderer did: the files it staged (possibly none, e.g. a push to a running
    Anki), actions taken outside files, one-line notes for the user, and diagnostics about
    single cards (with their file:line)."""

    files: list[Path] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


class Renderer(Protocol):
    def check(self, settings: dict[str, Any], where: Location | None) -> list[Diagnostic]:
        """Problems with this format's settings table (``where`` is the table's location in
        deckgen.toml). Runs when the config is checked, whether or not the format is built,
        before any cell runs; must be fast and import nothing heavy."""
        ...

    def render(self, deck: Deck, target: Target) -> Report:
        """Stage the output in ``target.staging``; raise OSError for a disk fault."""
        ...


@dataclass(frozen=True)
class Format:
    name: str
    help: str
    """One line for ``--help``."""
    renderer: str
    """``module:Class`` of its renderer."""
    table: str | None = None
    """Its settings' table in deckgen.toml, if it has settings."""
    default: bool = True
    """Built when deckgen.toml names no formats."""

    def load(self) -> Renderer:
        module, _, cls = self.renderer.partition(":")
        made: Renderer = getattr(importlib.import_module(module), cls)()
        return made


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("apkg", "Anki package (re-imports update the notes you study)",
           "deckgen.render.anki:AnkiRenderer"),
    Format("json", "card list for tooling (docs/JSON.md)",
           "deckgen.render.jsonlist:JsonRenderer"),
    Format("pdf", "printable cards, front and back aligned for double-sided printing",
           "deckgen.render.pdf:PdfRenderer", table="print"),
    Format("csv", "tab-separated notes for Anki's text import and flashcard sites",
           "deckgen.render.csvlist:CsvRenderer", table="csv", default=False),
)}
"""Every output format, in the order they are built."""

DEFAULT_FORMATS = tuple(f.name for f in FORMATS.values() if f.default)
SETTINGS_TABLES = {f.table: f for f in FORMATS.values() if f.table}
"""deckgen.toml table -> the format whose settings it holds."""


def check_settings(tables: dict[str, Any], where: dict[str, Location | None]
                   ) -> list[Diagnostic]:
    """Every present settings table, checked by its renderer (built or not)."""
    diags: list[Diagnostic] = []
    for name, fmt in SETTINGS_TABLES.items():
        if name in tables:
            diags.extend(fmt.load().check(tables[name], where.get(name)))
    return diags
