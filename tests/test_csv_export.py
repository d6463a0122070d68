"""The CSV export, imported by the real Anki backend's text importer (File > Import).

The file carries note type, deck, GUID and tags per line, so a second import after an edit
updates the notes the first one made; the cards' images are in ``<slug>-media/``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from anki.collection import Collection
from anki.import_export_pb2 import ImportCsvRequest

from anki_helpers import new_collection
from conftest import build, write_bank
from test_cli import run

QUESTIONS = r"""## Basics

1. What is $\frac{1}{2} + \frac{1}{2}$? A tab	inside, "quotes" and
   a line break.

---

2. The [...] layer normalizes per [...].

---

3. **True or False:** ReLU is linear.

---

4. Which is a loss? Choose one:
   1. Cross-entropy
   2. Dropout

---

5. What does the figure show?

   ![Stripes](img/s.png)
"""
ANSWERS = """## 1
$1$, computed: `{python} 1/2 + 1/2`.

## 2
1. batch norm
2. channel

## 3
**False.** It is piecewise linear.

## 4
Correct: 1

## 5
Stripes.
"""
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a2ee5b1b"
                    "0000000049454e44ae426082")


def _bank(root: Path, table: str = "") -> Path:
    bank = write_bank(root / "b", QUESTIONS, ANSWERS)
    (bank / "img").mkdir()
    (bank / "img" / "s.png").write_bytes(PNG)
    with (bank / "deckgen.toml").open("a") as f:
        f.write('formats = ["csv"]\n' + table)
    return bank


def _import(col: Collection, path: Path) -> None:
    metadata = col.get_csv_metadata(str(path), None)
    col.import_csv(ImportCsvRequest(path=str(path), metadata=metadata))


def _notes(col: Collection) -> dict[str, dict]:
    out = {}
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        out[note.guid] = {"type": note.note_type()["name"], "fields": note.fields,
                          "tags": set(note.tags), "cards": len(note.cards()),
                          "deck": col.decks.name(note.cards()[0].did), "mod": note.mod}
    return out


@pytest.mark.slow
def test_anki_imports_the_csv_and_a_second_import_updates_it(tmp_path: Path):
    bank = _bank(tmp_path)
    out = tmp_path / "out"
    result = build(bank, out)
    path = out / "t.csv"
    assert result.written == {"csv": path}
    media = sorted(p.name for p in (out / "t-media").iterdir())
    assert len(media) == 1 and media[0].startswith("deckgen-") and \
        (out / "t-media" / media[0]).read_bytes() == PNG
    assert set(result.files) == {path, out / "t-media" / media[0]}

    (tmp_path / "col").mkdir()
    col = new_collection(tmp_path / "col")
    _import(col, path)
    notes = _notes(col)
    assert len(notes) == 5
    by_ref = {next(t for t in n["tags"] if t.startswith("q::")): n for n in notes.values()}
    assert {n["type"] for n in notes.values()} == {"Basic", "Cloze"}
    q1, q2, q4, q5 = by_ref["q::1"], by_ref["q::2"], by_ref["q::4"], by_ref["q::5"]
    assert q1["deck"] == "T::Basics" and "deckgen" in q1["tags"]
    assert "A tab\tinside, \"quotes\" and\na line break." in q1["fields"][0]  # one field
    assert r"\(\frac{1}{2} + \frac{1}{2}\)" in q1["fields"][0]
    assert "computed: 1.0" in q1["fields"][1]
    assert q2["type"] == "Cloze" and q2["cards"] == 2
    assert "{{c1::batch norm}}" in q2["fields"][0] and "{{c2::channel}}" in q2["fields"][0]
    assert 'class="correct"' in q4["fields"][1]
    assert f'src="{media[0]}"' in q5["fields"][0]

    # an edit, built again and imported again: the same notes, updated
    (bank / "answers" / "a.md").write_text(ANSWERS.replace("Stripes.", "Black stripes."))
    build(bank, out)
    _import(col, path)
    again = _notes(col)
    assert set(again) == set(notes)
    assert [again[g]["fields"][1] for g in again if "Black stripes" in again[g]["fields"][1]]
    col.close()


def test_plain_text_for_tools_that_show_text_only(tmp_path: Path):
    bank = _bank(tmp_path, '[csv]\nhtml = false\nheader = false\n')
    out = tmp_path / "out"
    build(bank, out)
    with (out / "t.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    assert len(rows) == 5 and all(len(r) == 2 for r in rows)
    assert rows[0][0].startswith(r"What is $\frac{1}{2} + \frac{1}{2}$? A tab")
    assert "<" not in "".join(rows[0] + rows[2])
    assert rows[1][0] == "The [1] layer normalizes per [2]."
    assert rows[1][1] == "The batch norm layer normalizes per channel."
    assert rows[3][1] == "\u2713 Cross-entropy\n\u2717 Dropout"
    assert rows[4][0].endswith("[Stripes]")
    assert not (out / "t-media").exists()  # text only: no images to bring


def test_a_bad_csv_table_is_found_by_check_even_when_csv_is_not_built(tmp_path: Path):
    bank = _bank(tmp_path, '\n[csv]\nhtml = "yes"\nbasics = "Basic"\n')
    toml = bank / "deckgen.toml"
    toml.write_text(toml.read_text().replace('formats = ["csv"]\n', 'formats = ["json"]\n'))
    result = run("check", str(bank))
    assert result.exit_code == 1, result.output
    line = toml.read_text().splitlines().index("[csv]") + 1
    assert f"deckgen.toml:{line}: error: [csv] html must be true or false" in result.output
    assert "[csv] has no setting 'basics'" in result.output
