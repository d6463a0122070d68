"""Deck -> tab-separated notes, for Anki's text import (File > Import) and flashcard sites.

One line per note. With Anki's header lines (the default), each line carries its note type,
deck, GUID and tags, so importing the file again after an edit updates the notes it made
(Anki matches them by GUID) instead of adding copies. The files its cards show are staged
in ``<slug>-media/``: Anki's text import does not bring media, so copy them into the
profile's ``collection.media`` folder (the .apkg brings them by itself).

Settings, in deckgen.toml's ``[csv]`` table:

- ``html`` (true): fields as Anki HTML; false: plain text, formulas as their LaTeX source
  and blanks as ``[1]``, for tools that show text only;
- ``header`` (true): Anki's ``#`` header lines and the note type, deck, GUID and tags
  columns; false: two columns, front and back, and nothing else;
- ``basic``, ``cloze`` ("Basic", "Cloze"): the note types the notes go to in the Anki that
  imports them (their first two fields take the front and back), for an Anki whose stock
  note types have other names.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from deckgen.errors import Diagnostic, Location
from deckgen.model import Card, Deck, Kind
from deckgen.render import Report, Target
from deckgen.content import Content
from deckgen.render.html import field_html
from deckgen.render.plain import to_plain


@dataclass(frozen=True)
class CsvOptions:
    html: bool = True
    header: bool = True
    basic: str = "Basic"
    cloze: str = "Cloze"


def _problems(settings: Any) -> list[str]:
    if not isinstance(settings, dict):
        return ["[csv] must be a table of settings"]
    out = []
    known = set(CsvOptions.__dataclass_fields__)
    for key in sorted(set(settings) - known):
        out.append(f"[csv] has no setting '{key}' (known: {', '.join(sorted(known))})")
    for key in ("html", "header"):
        if key in settings and not isinstance(settings[key], bool):
            out.append(f"[csv] {key} must be true or false")
    for key in ("basic", "cloze"):
        value = settings.get(key, "x")
        if not isinstance(value, str) or not value.strip() or any(c in value for c in "\t\n\r"):
            out.append(f"[csv] {key} must be a note type's name (text on one line)")
    return out


def csv_options(settings: dict[str, Any]) -> CsvOptions:
    """The settings as options; call only with settings ``check`` accepted."""
    d = CsvOptions()
    return CsvOptions(html=settings.get("html", d.html), header=settings.get("header", d.header),
                      basic=settings.get("basic", d.basic).strip(),
                      cloze=settings.get("cloze", d.cloze).strip())


def _field(content: Content, side: str, opts: CsvOptions) -> str:
    return field_html(content) if opts.html else to_plain(content, side)


def rows(deck: Deck, opts: CsvOptions) -> list[list[str]]:
    out = []
    for card in deck.cards:
        front = _field(card.context + card.front, "front", opts)
        back = _field(card.back, "back", opts)
        if not opts.html and card.kind is Kind.CLOZE:  # the text with its blanks filled
            back = "\n\n".join(filter(None, (to_plain(card.front, "back"), back)))
        if not opts.header:
            out.append([front, back])
            continue
        kind = opts.cloze if card.kind is Kind.CLOZE else opts.basic
        out.append([kind, card.deck, card.guid, front, back, " ".join(_tags(card))])
    return out


def _tags(card: Card) -> list[str]:
    return [t.replace(" ", "_") for t in card.tags]


def to_text(deck: Deck, opts: CsvOptions) -> str:
    buf = io.StringIO()
    if opts.header:
        buf.write("#separator:tab\n")
        buf.write(f"#html:{'true' if opts.html else 'false'}\n")
        buf.write("#notetype column:1\n#deck column:2\n#guid column:3\n#tags column:6\n")
        buf.write("#columns:Note type\tDeck\tGUID\tFront\tBack\tTags\n")
    writer = csv.writer(buf, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerows(rows(deck, opts))
    return buf.getvalue()


class CsvRenderer:
    def check(self, settings: dict[str, Any], where: Location | None) -> list[Diagnostic]:
        return [Diagnostic(where, message, "csv-options") for message in _problems(settings)]

    def render(self, deck: Deck, target: Target) -> Report:
        opts = csv_options(target.settings)
        path = target.path(".csv")
        target.staging.stage_bytes(path, to_text(deck, opts).encode("utf-8"))
        files = [path]
        if opts.html and deck.media:
            folder = target.path("-media")
            for name, data in sorted(deck.media.items()):
                target.staging.stage_bytes(folder / name, data)
                files.append(folder / name)
        notes = []
        if len(files) > 1:
            notes.append(f"csv: Anki's text import does not bring media: copy the "
                         f"{len(files) - 1} file(s) in {target.path('-media')} into Anki's "
                         "collection.media folder")
        return Report(files, notes=notes)
