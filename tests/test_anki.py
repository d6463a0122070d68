"""The built .apkg imports into the real Anki backend, renders, and updates cleanly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from anki_helpers import import_apkg, new_collection, notes_by_ref, render_problems
from conftest import build, cards_json

pytestmark = pytest.mark.slow


def test_default_bank_imports_and_renders(seed_build: Path, tmp_path: Path):
    apkg = next(seed_build.glob("*.apkg"))
    cards = cards_json(seed_build)["cards"]
    col = new_collection(tmp_path)
    log = import_apkg(col, apkg)
    assert len(log.new) == len(cards) == col.note_count() == 183
    assert render_problems(col) == []
    media_dir = Path(col.media.dir())
    referenced = {m for c in cards for m in c["media"]}
    assert referenced and all((media_dir / m).is_file() for m in referenced)
    # every file named in a field is in the collection's media folder
    for nid in col.find_notes(""):
        for name in re.findall(r'src="([^"]+)"', "".join(col.get_note(nid).fields)):
            assert (media_dir / name).is_file(), name
    decks = {d.name for d in col.decks.all_names_and_ids()}
    assert "Deep Learning Interviews::Cross Validation" in decks
    assert "Deep Learning Interviews::Optimization and Loss" in decks
    note = notes_by_ref(col)["Q34.2"]
    assert {"deckgen", "kind::open", "q::34", "section::Perceptron"} <= set(note.tags)
    cloze_cards = [c for c in col.find_cards("Ref:Q58.2")]
    assert len(cloze_cards) == 3  # one card per blank; its two "true negative rate" share one
    # a second import of the same build adds and changes nothing
    again = import_apkg(col, apkg)
    assert len(again.new) == 0 and col.note_count() == 183
    assert len(again.conflicting) == 0


def test_edit_one_question_updates_only_that_note(tiny: Path, tmp_path: Path):
    out = tmp_path / "out"
    build(tiny, out)
    col = new_collection(tmp_path)
    assert len(import_apkg(col, out / "tiny.apkg").new) == 6
    before = {ref: (list(n.fields), n.mod) for ref, n in notes_by_ref(col).items()}
    guids = {n.guid for n in notes_by_ref(col).values()}

    q = tiny / "questions.md"
    q.write_text(q.read_text().replace("The sigmoid maps", "The logistic sigmoid maps"))
    build(tiny, out)  # within the same second: a changed note still gets a newer mtime
    log = import_apkg(col, out / "tiny.apkg")
    after = notes_by_ref(col)
    assert len(log.new) == 0 and col.note_count() == 6
    assert {n.guid for n in after.values()} == guids
    assert "The logistic sigmoid maps" in after["Q2"]["Front"]
    assert after["Q2"].mod > before["Q2"][1]
    for ref, (fields, mod) in before.items():
        if ref != "Q2":
            assert (list(after[ref].fields), after[ref].mod) == (fields, mod), ref
    assert render_problems(col) == []


def test_rebuild_of_unchanged_source_is_byte_identical(tiny: Path, tmp_path: Path):
    out = tmp_path / "out"
    build(tiny, out)
    first = (out / "tiny.apkg").read_bytes()
    result = build(tiny, out, rerun=True)  # not skipped as up to date: rendered again
    assert not result.skipped and result.deck is not None
    assert result.changed == {"apkg": False, "json": False, "pdf": False}
    assert (out / "tiny.apkg").read_bytes() == first
