"""Cards as Anki shows them, without Anki: the note types' templates filled with the notes'
fields the way Anki's renderer fills them (fields, ``{{#Field}}`` sections, ``{{FrontSide}}``
and ``{{cloze:Field}}``), for ``deckgen serve``. tests/test_serve.py checks the result against
the real Anki backend's ``card.question()`` and ``card.answer()``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deckgen.errors import Diagnostic
from deckgen.model import Card, Deck, Kind
from deckgen.render.anki import FIELDS, fields_of, models

_SECTION = re.compile(r"\{\{([#^])\s*([^{}]+?)\s*\}\}(.*?)\{\{/\s*\2\s*\}\}", re.DOTALL)
_TAG = re.compile(r"\{\{\s*([^{}#^/]+?)\s*\}\}")
_CLOZE = re.compile(r"\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}", re.DOTALL)


def cloze_numbers(text: str) -> list[int]:
    return sorted({int(n) for n, _, _ in _CLOZE.findall(text)})


def _cloze(text: str, ordinal: int, question: bool) -> str:
    def one(m: re.Match[str]) -> str:
        number, content, hint = int(m.group(1)), m.group(2), m.group(3)
        if number != ordinal:
            return f'<span class="cloze-inactive" data-ordinal="{number}">{content}</span>'
        if question:
            shown = f"[{hint}]" if hint else "[...]"
            return (f'<span class="cloze" data-cloze="{_attribute(content)}" '
                    f'data-ordinal="{number}">{shown}</span>')
        return f'<span class="cloze" data-ordinal="{number}">{content}</span>'
    return _CLOZE.sub(one, text)


_NAMED = {"<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;"}


def _attribute(text: str) -> str:
    """An attribute value as Anki writes it: ASCII letters and digits as they are, ``<>&"``
    by name, every other character as ``&#xHH;``."""
    return "".join(c if c.isascii() and c.isalnum() else _NAMED.get(c, f"&#x{ord(c):X};")
                   for c in text)


def fill(template: str, fields: dict[str, str], ordinal: int = 1, question: bool = True,
         front_side: str = "") -> str:
    """One side of a card from its template (Anki's template language, the parts deckgen's
    templates use)."""
    def section(m: re.Match[str]) -> str:
        present = bool(fields.get(m.group(2).strip(), "").strip())
        return m.group(3) if present == (m.group(1) == "#") else ""
    previous = None
    while previous != template:  # sections may hold sections
        previous, template = template, _SECTION.sub(section, template)

    def tag(m: re.Match[str]) -> str:
        name = m.group(1)
        if name == "FrontSide":
            return front_side
        if name.startswith("cloze:"):
            return _cloze(fields.get(name[len("cloze:"):], ""), ordinal, question)
        if ":" in name:  # other filters (text:, hint:...) are not in deckgen's templates
            name = name.rsplit(":", 1)[1]
        return fields.get(name, "")
    return _TAG.sub(tag, template)


def note_templates(override: Path | None = None) -> tuple[dict[str, tuple[str, str]], str]:
    """The note types' templates (``basic``/``cloze`` -> (front, back)) and their CSS, as the
    Anki package carries them (``override``: a trusted bank's own templates)."""
    basic, cloze = models(override)
    return ({"basic": (basic.templates[0]["qfmt"], basic.templates[0]["afmt"]),
             "cloze": (cloze.templates[0]["qfmt"], cloze.templates[0]["afmt"])}, basic.css)


@dataclass
class Side:
    name: str
    front: str
    back: str


def sides(card: Card, templates: dict[str, tuple[str, str]]) -> list[Side]:
    """The card(s) Anki makes of a note: one for a basic note, one per deletion of a cloze."""
    fields = dict(zip(FIELDS, fields_of(card)))
    qfmt, afmt = templates["cloze" if card.kind is Kind.CLOZE else "basic"]
    ordinals = cloze_numbers(fields["Front"]) if card.kind is Kind.CLOZE else [1]
    out = []
    for n in ordinals or [1]:
        front = fill(qfmt, fields, n, True)
        out.append(Side(f"card {n}", front, fill(afmt, fields, n, False, front)))
    return out


def deck_data(deck: Deck, templates: dict[str, tuple[str, str]], css: str,
              diagnostics: list[Diagnostic], version: int, failed: str = "") -> dict[str, Any]:
    """Everything the preview page shows: the cards (each side rendered), the diagnostics
    (each with the card it is about, when one is), the note type's CSS."""
    shown = [_diagnostic(d) for d in diagnostics]
    by_card: dict[str, list[int]] = {}
    keys = {c.key: c.ref for c in deck.cards}
    starts = sorted((c.loc.path, c.loc.line, c.ref) for c in deck.cards)
    for i, d in enumerate(diagnostics):
        ref = _card_of(d, keys, starts)
        if ref:
            shown[i]["card"] = ref
            by_card.setdefault(ref, []).append(i)
    cards = []
    for c in deck.cards:
        cards.append({"ref": c.ref, "key": c.key, "section": c.section, "kind": c.kind.value,
                      "answered": c.answered, "source": f"{c.loc.path}:{c.loc.line}",
                      "diagnostics": by_card.get(c.ref, []),
                      "sides": [s.__dict__ for s in sides(c, templates)]})
    return {"version": version, "deck": deck.name, "css": css, "cards": cards,
            "diagnostics": shown, "failed": failed}


def _diagnostic(d: Diagnostic) -> dict[str, Any]:
    return {"where": f"{d.loc.path}:{d.loc.line}" if d.loc else "", "message": d.message,
            "code": d.code, "severity": d.severity.value}


def _card_of(d: Diagnostic, keys: dict[str, str], starts: list[tuple[str, int, str]]
             ) -> str | None:
    """The card a diagnostic is about: named by its key first ("35.1: ..."), else the card
    whose question holds its line."""
    m = re.match(r"(?:Q)?(\d+(?:\.[\w]+)?)\b", d.message)
    if m and m.group(1) in keys:
        return keys[m.group(1)]
    if d.loc is None:
        return None
    found = None
    for path, line, ref in starts:
        if path == d.loc.path and line <= d.loc.line:
            found = ref
    return found
