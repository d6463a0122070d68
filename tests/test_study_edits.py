"""The default bank in real Anki, edited as authors edit, with its answers files untouched:
insert a question near the top and renumber every later one, move one to another section,
delete one, reword one; rebuild and re-import with Anki's default options."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from anki_helpers import import_apkg, new_collection, render_problems, review_all, snapshot
from conftest import ROOT, build
from deckgen.content import Details
from deckgen.render.html import field_html
from deckgen.parse import read_bank

pytestmark = pytest.mark.slow

QFILE = "deep-learning-interview-questions.md"


def edit_bank(path: Path) -> dict[str, int]:
    """Apply the four edits to the question file; returns the questions' old numbers by role."""
    bank, _ = read_bank(path)
    lines = path.read_text(encoding="utf-8").split("\n")
    questions = list(bank.questions)
    line_of = {q.number: q.loc.line - 1 for q in questions}
    # (b) move: the last question of the first section goes to the second section, by moving
    # the second section's heading above it
    first_section = [q for q in questions if q.section == questions[0].section]
    moved = first_section[-1]
    nxt = questions[len(first_section)]
    heading = next(i for i in range(line_of[nxt.number] - 1, line_of[moved.number], -1)
                   if lines[i].startswith("##") and lines[i].lstrip("#").strip() == nxt.section)
    # (c) delete: a one-part question in the middle, with a question after it in its section
    deleted = next(q for q in questions[10:] if len(q.parts) == 1 and q.section ==
                   questions[questions.index(q) + 1].section)
    # (d) reword: another one-part question
    edited = next(q for q in questions[30:] if len(q.parts) == 1 and q is not deleted
                  and q.section == questions[questions.index(q) + 1].section)
    roles = {"moved": moved.number, "deleted": deleted.number, "edited": edited.number}

    out: list[str] = []
    skip_until = None
    for i, line in enumerate(lines):
        if skip_until is not None and i < skip_until:
            continue
        skip_until = None
        if i == line_of[deleted.number]:
            skip_until = line_of[questions[questions.index(deleted) + 1].number]
            continue
        if i == heading:
            continue  # re-inserted above the moved question
        if i == line_of[moved.number]:
            # the question's block starts at its number; the rule before it stays
            out.extend([lines[heading], ""])
        if i == line_of[questions[0].number]:
            out.extend(["1. What is a tensor, in one sentence?", "", "---", ""])  # (a)
        number = next((n for n, at in line_of.items() if at == i), None)
        if number is not None:
            line = re.sub(rf"^(\s*){number}\.", rf"\g<1>{number + 1}.", line)
        if number == edited.number:
            line = line.replace("?", " (in your own words)?", 1) if "?" in line else \
                line + " Answer in your own words."
        out.append(line)
    path.write_text("\n".join(out), encoding="utf-8")
    return roles


def test_the_default_bank_survives_an_authors_edits_in_anki(tmp_path: Path):
    bank = tmp_path / "source"
    shutil.copytree(ROOT / "source", bank, ignore=shutil.ignore_patterns("build"))
    out = tmp_path / "out"
    first = build(bank, out)
    by_key = {c.key: c.guid for c in first.deck.cards}
    col = new_collection(tmp_path)
    log = import_apkg(col, out / "deep-learning-interviews.apkg")
    assert len(log.new) == len(first.deck.cards)
    # new cards enter Anki in the bank's order
    due = dict(col.db.all("select n.guid, min(c.due) from cards c join notes n on c.nid = n.id"
                          " where c.type = 0 group by n.guid"))
    dues = [due[c.guid] for c in first.deck.cards]
    assert dues == sorted(dues) and len(set(dues)) == len(dues)
    review_all(col, "Deep Learning Interviews")
    before = snapshot(col)
    assert all(c[3] >= 1 for n in before.values() for c in n["cards"])  # all reviewed

    answers_before = {p: p.read_bytes() for p in (bank / "answers").glob("*.md")}
    roles = edit_bank(bank / QFILE)
    second = build(bank, out)
    assert {p: p.read_bytes() for p in (bank / "answers").glob("*.md")} == answers_before
    assert [e.key for e in second.removed] == [str(roles["deleted"])]
    assert [d.code for d in second.diagnostics if d.code == "orphan-answer"] == ["orphan-answer"]
    log = import_apkg(col, out / "deep-learning-interviews.apkg")
    after = snapshot(col)

    # Anki's log calls a note it already has and leaves alone a "duplicate"
    assert len(log.new) == 1 and not log.conflicting and not log.first_field_match
    assert col.note_count() == len(before) + 1  # the deleted note stays in Anki
    for guid, old in before.items():  # every surviving card keeps id, interval and revlog
        assert after[guid]["cards"] == old["cards"]
    # every answer is still on its question: the answer side of each note is unchanged
    for guid, old in before.items():
        assert after[guid]["fields"]["Back"] == old["fields"]["Back"], old["fields"]["Ref"]
    moved = {g for k, g in by_key.items() if k.split(".")[0] == str(roles["moved"])}
    edited = {by_key[str(roles["edited"])]}
    updated = {g for g in before if after[g]["mod"] != before[g]["mod"] or
               after[g]["fields"] != before[g]["fields"]}
    # and the questions that continue an edited or deleted one ("Further to the above"):
    # what they carry from the question before them changed
    # (as Anki sees it: the content also holds source lines, which the edits moved)
    context = {c.guid: field_html(c.context) for c in first.deck.cards}
    continuing = {c.guid for c in second.deck.cards
                  if any(isinstance(n, Details) and n.kind == "earlier" for n in c.context)
                  and context.get(c.guid) != field_html(c.context)}
    assert updated == moved | edited | continuing
    assert len(continuing) <= 5
    assert len(log.updated) == len(updated)
    # a moved note carries its new section's tag (Anki keeps its cards in the old deck)
    notes = {col.get_note(n).guid: col.get_note(n) for n in col.find_notes("")}
    assert all(any(t.startswith("section::Convolution") for t in notes[g].tags) for g in moved)
    new_guid = (set(after) - set(before)).pop()
    assert "What is a tensor" in after[new_guid]["fields"]["Front"]
    assert render_problems(col) == []


def test_a_bank_of_two_files_round_trips_through_anki(tmp_path: Path):
    from conftest import cards_json

    bank = tmp_path / "two"
    (bank / "answers").mkdir(parents=True)
    (bank / "deckgen.toml").write_text('name = "Two"\nsources = ["ml.md", "sql.md"]\n')
    (bank / "ml.md").write_text("## ML\n\n1. What is a perceptron?\n\n---\n\n"
                                "2. What does ReLU compute?\n")
    (bank / "sql.md").write_text("## SQL\n\n1. What is a primary key?\n\n---\n\n"
                                 "2. What does a LEFT JOIN keep?\n")
    (bank / "answers" / "ml.md").write_text("## 1\nA linear threshold unit.\n\n## 2\n"
                                            "max(0, x).\n")
    (bank / "answers" / "sql.md").write_text("## 1\nA column that identifies each row.\n\n"
                                             "## 2\nEvery row of the left table.\n")
    out = tmp_path / "out"
    first = build(bank, out)
    assert [c.ref for c in first.deck.cards] == ["ml Q1", "ml Q2", "sql Q1", "sql Q2"]
    col = new_collection(tmp_path)
    assert len(import_apkg(col, out / "two.apkg").new) == 4
    before = snapshot(col)
    # a question inserted at the top of one file; its answers file untouched
    (bank / "sql.md").write_text("## SQL\n\n1. What is an index?\n\n---\n\n"
                                 "2. What is a primary key?\n\n---\n\n"
                                 "3. What does a LEFT JOIN keep?\n")
    second = build(bank, out)
    log = import_apkg(col, out / "two.apkg")
    after = snapshot(col)
    assert len(log.new) == 1 and not log.conflicting and col.note_count() == 5
    for guid, old in before.items():
        assert after[guid] == old  # nothing changed in Anki but the new note
    backs = {c["front"]: c["back"] for c in cards_json(out)["cards"]}
    assert "Every row of the left table." in next(b for f, b in backs.items() if "LEFT" in f)
    assert "No answer yet" in next(b for f, b in backs.items() if "index" in f)
    assert [c.ref for c in second.deck.cards][-1] == "sql Q3"
