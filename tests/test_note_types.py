"""A bank with its own templates gets note types of its own: its restyling never changes
another deckgen deck's cards, and restyling it again updates its own notes in place."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from anki_helpers import import_apkg, new_collection
from conftest import ROOT, build, write_bank

pytestmark = pytest.mark.slow


def styled(bank: Path, banner: str) -> None:
    tpl = bank / "tpl" / "anki"
    if not tpl.exists():
        shutil.copytree(ROOT / "renderers" / "anki", tpl)
    front = (ROOT / "renderers" / "anki" / "front.html").read_text()
    (tpl / "front.html").write_text(f"<div class='banner'>{banner}</div>\n" + front)


def test_one_banks_restyling_stays_in_its_own_cards(tmp_path):
    plain = write_bank(tmp_path / "plain", "1. What is A?\n", "## 1\nA.\n", name="Plain")
    fancy = write_bank(tmp_path / "fancy", "1. What is B?\n", "## 1\nB.\n", name="Fancy")
    with (fancy / "deckgen.toml").open("a") as f:
        f.write('templates = "tpl"\n')
    styled(fancy, "FANCY-1")
    build(plain, tmp_path / "out-plain")
    build(fancy, tmp_path / "out-fancy")
    ids = json.loads((fancy / "deckgen.lock").read_text())["note_types"]
    col = new_collection(tmp_path)
    import_apkg(col, tmp_path / "out-plain" / "plain.apkg")
    import_apkg(col, tmp_path / "out-fancy" / "fancy.apkg")

    def question(front: str) -> str:
        nid = next(n for n in col.find_notes("") if front in col.get_note(n)["Front"])
        return col.get_note(nid).cards()[0].question()

    assert "FANCY-1" in question("What is B?") and "FANCY" not in question("What is A?")
    assert {m["id"] for m in col.models.all()} >= {ids["basic"]}
    # restyle again: same note types (ids kept in the lock), its notes updated in place
    styled(fancy, "FANCY-2")
    build(fancy, tmp_path / "out-fancy")
    assert json.loads((fancy / "deckgen.lock").read_text())["note_types"] == ids
    before = len(col.models.all())
    import_apkg(col, tmp_path / "out-fancy" / "fancy.apkg")
    assert len(col.models.all()) == before and col.note_count() == 2
    assert "FANCY-2" in question("What is B?") and "FANCY" not in question("What is A?")
