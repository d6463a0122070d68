"""Import preview: what Anki will do with a new build, compared with the last .apkg built."""

from __future__ import annotations

import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from deckgen.content import clozes
from deckgen.model import Deck, Kind


@dataclass
class Change:
    guid: str
    ref: str
    what: str
    """'new', 'updated', 'unchanged' or 'orphaned'."""
    fields: list[str] = field(default_factory=list)
    """For 'updated': the names of the fields that changed."""
    note: str = ""
    """Anything Anki will not do by itself (a section move, lost blanks)."""

    def to_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v not in ("", [])}


def previous_notes(apkg: Path) -> dict[str, dict]:
    """guid -> {'fields', 'tags', 'deck', 'ref'} read back from a built package."""
    from deckgen.render.anki import FIELDS

    if not apkg.is_file():
        return {}
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(apkg) as z:
        db = Path(tmp) / "c.anki2"
        db.write_bytes(z.read("collection.anki2"))
        con = sqlite3.connect(db)
        try:
            import json
            decks = {int(k): v["name"] for k, v in
                     json.loads(con.execute("select decks from col").fetchone()[0]).items()}
            out = {}
            for guid, flds, tags, did in con.execute(
                    "select n.guid, n.flds, n.tags, c.did from notes n join cards c "
                    "on c.nid = n.id group by n.id"):
                values = flds.split("\x1f")
                out[guid] = {"fields": dict(zip(FIELDS, values)), "tags": tags.split(),
                             "deck": decks.get(did, ""), "ref": values[FIELDS.index("Ref")]}
            return out
        finally:
            con.close()


def compare(deck: Deck, apkg: Path) -> list[Change]:
    from deckgen.render.anki import (FIELDS, POSITION_FIELDS, POSITION_TAG, MtimeState,
                                     card_digest, fields_of, state_path)

    before = previous_notes(apkg)
    # what decides whether Anki updates a note: its digest at the last build (validated)
    digests = {k: v[0] for k, v in MtimeState(state_path(apkg)).data.items()}
    changes: list[Change] = []
    for card in deck.cards:
        old = before.pop(card.guid, None)
        if old is None:
            changes.append(Change(card.guid, card.ref, "new"))
            continue
        now = dict(zip(FIELDS, fields_of(card)))
        # numbers are positions: a renumbering alone does not update a note in Anki
        differ = [f for f in FIELDS if f not in POSITION_FIELDS and
                  now[f] != old["fields"].get(f)]
        if sorted(t for t in card.tags if not t.startswith(POSITION_TAG)) != \
                sorted(t for t in old["tags"] if not t.startswith(POSITION_TAG)):
            differ.append("tags")
        if card.guid in digests:
            updated = card_digest(card) != digests[card.guid]
        else:
            updated = bool(differ)
        note = ""
        if old["deck"] and old["deck"] != card.deck:
            note = (f"moved from {old['deck']} to {card.deck}: Anki keeps the cards in the old "
                    "deck (Browse > Change Deck moves them)")
        if card.kind is Kind.CLOZE:
            lost = old["fields"].get("Front", "").count("{{c") - len(clozes(card.front))
            if lost > 0:
                note = f"{lost} blank(s) fewer: Anki keeps their cards empty"
        changes.append(Change(card.guid, card.ref, "updated" if updated else "unchanged",
                              differ if updated else [], note))
    for guid, old in before.items():
        changes.append(Change(guid, old["ref"], "orphaned",
                              note="no longer in the source; Anki keeps the note"))
    return changes
