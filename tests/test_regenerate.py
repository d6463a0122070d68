"""Edit, renumber, move, remove, rebuild, re-import: Anki keeps every card's history."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from anki_helpers import (import_apkg, new_collection, render_problems, review_all,
                          snapshot)
from conftest import build, write_bank

pytestmark = pytest.mark.slow

V1 = """## Alpha

1. What is a perceptron?

---

2. What does ReLU compute?

---

3. Why normalise inputs?

## Beta

4. What is dropout?
    1. Explain inverted dropout.
    2. What is its default rate in torch?

---

5. Name a loss for classification.
"""

A1 = """## 1
A linear threshold unit.

## 2
$\\max(0, x)$.

## 3
Faster, better-conditioned optimisation.

## 4.1
Scale kept activations by $1/(1-p)$ during training.

## 4.2
0.5

## 5
Cross-entropy, the negative log-likelihood of the labels.
"""

# v2: (a) Q1 reworded; (b) a new question inserted before it, shifting every number;
# (c) "What does ReLU compute?" moved to section Beta; (d) Q3 removed; (e) a typo fixed in the
# answer of Q5 (now Q6).
V2 = """## Alpha

1. What is a tensor?

---

2. What is a perceptron, in one sentence?

## Beta

3. What is dropout?
    1. Explain inverted dropout.
    2. What is its default rate in torch?

---

4. What does ReLU compute?

---

5. Name a loss for classification.
"""

A2 = """## 1
An n-dimensional array.

## 2
A linear threshold unit.

## 3.1
Scale kept activations by $1/(1-p)$ during training.

## 3.2
0.5

## 4
$\\max(0, x)$.

## 5
Cross-entropy: the negative log-likelihood of the labels.
"""


def test_edits_renumbering_moves_and_removals_keep_review_history(tmp_path: Path):
    bank = write_bank(tmp_path / "bank", V1, A1)
    out = tmp_path / "out"
    build(bank, out)
    col = new_collection(tmp_path)
    assert len(import_apkg(col, out / "t.apkg").new) == 6
    review_all(col)
    before = snapshot(col)
    assert all(c[3] == 1 and c[1] > 0 for n in before.values() for c in n["cards"])
    by_front = {re.sub(r"<[^>]+>", "", n["fields"]["Front"]).strip(): g
                for g, n in before.items()}

    (bank / "q.md").write_text(V2)
    (bank / "answers" / "a.md").write_text(A2)
    result = build(bank, out)
    assert [e.key for e in result.removed] == ["3"]  # (d) reported
    log = import_apkg(col, out / "t.apkg")
    after = snapshot(col)

    assert len(log.new) == 1 and len(log.conflicting) == 0
    # Anki's log calls the notes it leaves alone (not newer) "duplicate": only the dropout
    # parts, which were renumbered and nothing else (the Ref is a position label)
    dropout = {by_front["Explain inverted dropout."], by_front["What is its default rate in torch?"]}
    assert {col.get_note(n.id.nid).guid for n in log.duplicate} == dropout
    assert col.note_count() == 7  # 6 old (the removed one stays in Anki) + 1 new
    assert len({n["fields"]["Front"] for n in after.values()}) == 7  # no duplicate notes
    for guid, old in before.items():  # every surviving card keeps id, interval and revlog
        assert after[guid]["cards"] == old["cards"]

    perceptron = after[by_front["What is a perceptron?"]]
    assert "What is a perceptron, in one sentence?" in perceptron["fields"]["Front"]  # (a)
    relu = after[by_front["What does ReLU compute?"]]
    assert relu["fields"]["Ref"] == "Q4" and "section::Beta" in \
        col.get_note(col.find_notes("Ref:Q4")[0]).tags  # (c): updated, history kept
    assert [after[g]["fields"]["Ref"] for g in sorted(dropout)] == \
        [before[g]["fields"]["Ref"] for g in sorted(dropout)]  # until their content changes
    loss = after[by_front["Name a loss for classification."]]
    assert "Cross-entropy: the negative" in loss["fields"]["Back"]  # (e)
    removed = before[by_front["Why normalise inputs?"]]
    assert after[by_front["Why normalise inputs?"]] == removed  # untouched in Anki
    # the query printed for removed notes finds exactly the removed note
    from deckgen.identity import anki_query
    found = col.find_notes(anki_query([e.guid for e in result.removed]))
    assert [col.get_note(n).guid for n in found] == [by_front["Why normalise inputs?"]]
    assert render_problems(col) == []


def test_unchanged_notes_keep_their_mtime_and_builds_are_reproducible(tmp_path: Path):
    bank = write_bank(tmp_path / "bank", V1, A1)
    out = tmp_path / "out"
    build(bank, out)
    first = json.loads((out / "t.json").read_text())
    apkg = (out / "t.apkg").read_bytes()
    col = new_collection(tmp_path)
    import_apkg(col, out / "t.apkg")
    before = snapshot(col)
    (bank / "answers" / "a.md").write_text(A1.replace("A linear threshold unit.",
                                                      "A linear threshold unit (Rosenblatt)."))
    build(bank, out)
    import_apkg(col, out / "t.apkg")
    after = snapshot(col)
    changed = [g for g in before if after[g]["fields"] != before[g]["fields"]]
    assert len(changed) == 1
    for guid in before:
        if guid not in changed:
            assert after[guid]["mod"] == before[guid]["mod"]
    # two builds of one source: identical note data and bytes
    (bank / "answers" / "a.md").write_text(A1)
    build(bank, out)
    again = build(bank, out, rerun=True)  # rebuilt for real, not skipped as up to date
    assert not again.skipped and again.changed["apkg"] is False
    assert [c["guid"] for c in json.loads((out / "t.json").read_text())["cards"]] == \
        [c["guid"] for c in first["cards"]]
    del apkg


def test_explicit_ids_and_duplicate_ids(tmp_path: Path):
    from deckgen import config
    from deckgen.pipeline import gather

    bank = write_bank(tmp_path / "bank", "1. A? <!-- id: a -->\n\n---\n\n2. B? <!-- id: a -->\n")
    diags = gather(config.load(bank)).diagnostics
    dup = [d for d in diags if d.code == "duplicate-id"]
    assert len(dup) == 1 and dup[0].loc.line == 5 and "q.md:1" in dup[0].message


def test_lock_file_is_kept_and_an_unreadable_one_stops_the_build(tmp_path: Path):
    from deckgen.errors import BuildFailed

    bank = write_bank(tmp_path / "bank", V1, A1)
    build(bank, tmp_path / "out")
    lock = json.loads((bank / "deckgen.lock").read_text())
    assert len(lock["notes"]) == 6 and all(n["guid"] for n in lock["notes"])
    (bank / "deckgen.lock").write_text("{broken")
    with pytest.raises(BuildFailed) as info:
        build(bank, tmp_path / "out")
    assert any(d.code == "lock-unreadable" for d in info.value.diagnostics)
    assert (bank / "deckgen.lock").read_text() == "{broken"


def test_stale_answer_warning(tmp_path: Path):
    from deckgen import config
    from deckgen.pipeline import gather

    bank = write_bank(tmp_path / "bank", V1, A1)
    build(bank, tmp_path / "out")
    (bank / "q.md").write_text(V1.replace("Name a loss for classification.",
                                          "Name a loss for regression."))
    diags = gather(config.load(bank)).diagnostics
    stale = [d for d in diags if d.code == "stale-answer"]
    assert [d.message.split(":")[0] for d in stale] == ["5"]
