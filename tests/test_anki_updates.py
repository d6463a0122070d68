"""Rebuilds after inserting, renumbering, moving and editing questions, imported into the real
Anki backend: only the notes whose content changed are updated, and new cards enter Anki in
the bank's order (with ``subdeck_numbers``, the subdecks sort in that order too)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from anki_helpers import import_apkg, new_collection, render_problems
from conftest import build
from deckgen import config
from deckgen.errors import ConfigError

# Each question: (text, answer); the answer is a string, None (unanswered) or, for a question
# with parts, a list of (part text, answer). Answers sit in <details> blocks after their
# question or part, so they move and renumber with it.
Question = tuple[str, object]

PERCEPTRON = ("What is a perceptron?", "A linear threshold unit.")
TENSOR = ("What is a tensor?", "An n-dimensional array.")
RELU = ("What does ReLU compute?", "The positive part, max(0, x).")
DROPOUT = ("About dropout:", [("What does inverted dropout scale the kept activations by?",
                               "By 1/(1-p)."),
                              ("What is the default dropout rate in torch?", "0.5")])
EPOCH = ("What is an epoch?", None)  # unanswered: its back names its (changing) key
SIGMOID = ("Fill in: the sigmoid maps [...] to [...].", "1. the real line\n2. (0, 1)")
ADAM = ("Which two moments does Adam track?", "The mean and the uncentred variance.")
SIGMOID_EDITED = ("Fill in: the logistic sigmoid maps [...] to [...].",
                  "1. the real line\n2. (0, 1)")

V1 = [("Alpha", [PERCEPTRON, RELU, DROPOUT]), ("Beta", [EPOCH, SIGMOID]), ("Gamma", [ADAM])]
# (a) a question inserted near the top: every later question is renumbered, nothing else
V2 = [("Alpha", [PERCEPTRON, TENSOR, RELU, DROPOUT]), ("Beta", [EPOCH, SIGMOID]),
      ("Gamma", [ADAM])]
# (b) ReLU moved to another section (renumbering the questions between) and (c) one edited
V3 = [("Alpha", [PERCEPTRON, TENSOR, DROPOUT]), ("Beta", [EPOCH, SIGMOID_EDITED]),
      ("Gamma", [RELU, ADAM])]


def details(answer: str, indent: str = "") -> str:
    body = "\n".join(indent + line for line in answer.splitlines())
    return (f"\n{indent}<details><summary>Answer</summary>\n\n{body}\n\n"
            f"{indent}</details>\n")


def bank_text(sections: list[tuple[str, list[Question]]]) -> str:
    """The bank as its author writes it: questions numbered 1, 2, ... from the top."""
    out: list[str] = []
    number = 0
    for title, questions in sections:
        out.append(f"## {title}\n")
        for i, (text, answer) in enumerate(questions):
            number += 1
            if i:
                out.append("---\n")
            out.append(f"{number}. {text}\n")
            if isinstance(answer, list):
                for label, (part, part_answer) in enumerate(answer, 1):
                    out.append(f"    {label}. {part}\n" + details(part_answer, " " * 8))
            elif answer is not None:
                out.append(details(answer))
    return "\n".join(out)


def write(bank: Path, sections, settings: str = "") -> Path:
    bank.mkdir(parents=True, exist_ok=True)
    (bank / "deckgen.toml").write_text(
        f'name = "T"\nsources = ["q.md"]\nformats = ["apkg", "json"]\n{settings}')
    (bank / "q.md").write_text(bank_text(sections))
    return bank


def cards_of(out: Path) -> list[dict]:
    return json.loads((out / "t.json").read_text())["cards"]


def snapshot(col) -> dict[str, dict]:
    """Per note GUID: what an import can change (fields, tags, mod) and its cards' dues."""
    out = {}
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        out[note.guid] = {"fields": dict(note.items()), "tags": sorted(note.tags),
                          "mod": note.mod,
                          "due": sorted({c.due for c in note.cards() if c.type == 0})}
    return out


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).strip()


def changed(before: dict[str, dict], after: dict[str, dict]) -> set[str]:
    """GUIDs of the notes the import updated (their mod, fields or tags moved)."""
    return {g for g, old in before.items()
            if (after[g]["mod"], after[g]["fields"], after[g]["tags"]) !=
            (old["mod"], old["fields"], old["tags"])}


def assert_no_duplicates(col, expected: int) -> None:
    notes = [col.get_note(n) for n in col.find_notes("")]
    assert len(notes) == expected
    assert len({(n["Context"], n["Front"]) for n in notes}) == expected


@pytest.mark.slow
def test_renumbering_updates_no_note_and_only_real_changes_reach_anki(tmp_path: Path):
    bank = write(tmp_path / "bank", V1)
    out = tmp_path / "out"
    build(bank, out)
    v1 = cards_of(out)
    col = new_collection(tmp_path)
    assert len(import_apkg(col, out / "t.apkg").new) == len(v1) == 7
    first = snapshot(col)
    # new cards enter in the bank's order: position = index in the card list (a cloze
    # note's cards share their note's position)
    assert [first[c["guid"]]["due"] for c in v1] == [[i] for i in range(len(v1))]
    source = first[v1[0]["guid"]]["fields"]["Source"]
    assert source.startswith("q.md <span") and ":" not in text_of(source)  # no path, no line
    top = col.decks.get(col.decks.id_for_name("T"))
    assert top["desc"] == "Built by deckgen from q.md: 6 questions, 8 cards."

    # (a) insert a question near the top, renumbering every later one
    write(bank, V2)
    result = build(bank, out)
    assert result.removed == []
    v2 = cards_of(out)
    assert [c["ref"] for c in v2][2:] == ["Q3", "Q4.1", "Q4.2", "Q5", "Q6", "Q7"]
    log = import_apkg(col, out / "t.apkg")
    # Anki's log calls the notes it leaves alone (not newer) "duplicate"
    assert len(log.new) == 1 and not log.updated and len(log.duplicate) == 7
    assert not log.conflicting
    assert_no_duplicates(col, 8)
    second = snapshot(col)
    assert changed(first, second) == set()  # a renumbering alone updates nothing in Anki
    tensor = v2[1]["guid"]
    assert tensor not in first and second[tensor]["due"] == [1]
    # every card keeps its place and the new one sits among them: positions follow the bank
    dues = [second[c["guid"]]["due"][0] for c in v2]
    assert dues == sorted(dues)
    # a collection that imports this build first gets every card in order
    (tmp_path / "fresh").mkdir()
    fresh = new_collection(tmp_path / "fresh")
    import_apkg(fresh, out / "t.apkg")
    assert [snapshot(fresh)[c["guid"]]["due"] for c in v2] == [[i] for i in range(len(v2))]

    # (b) move ReLU to another section, (c) edit the cloze question's text
    write(bank, V3)
    build(bank, out)
    v3 = cards_of(out)
    log = import_apkg(col, out / "t.apkg")
    assert not log.new and len(log.updated) == 2 and not log.conflicting
    assert_no_duplicates(col, 8)
    third = snapshot(col)
    by_front = {text_of(c["front"]): c for c in v3}
    relu = by_front["What does ReLU compute?"]
    sigmoid = next(c for c in v3 if "logistic sigmoid" in c["front"])
    assert changed(second, third) == {relu["guid"], sigmoid["guid"]}
    assert third[relu["guid"]]["fields"]["Ref"] == relu["ref"] == "Q6"  # refreshed with it
    assert "section::Gamma" in third[relu["guid"]]["tags"] and "q::6" in \
        third[relu["guid"]]["tags"]
    assert "logistic sigmoid" in third[sigmoid["guid"]]["fields"]["Front"]
    # a note that only moved down keeps the label of its first build until its content changes
    adam = by_front["Which two moments does Adam track?"]
    assert adam["ref"] == "Q7" and third[adam["guid"]]["fields"]["Ref"] == "Q6"
    assert render_problems(col) == []

    # a rebuild with no change to the bank changes nothing either
    before = (out / "t.apkg").read_bytes()
    write(bank, V3)
    assert build(bank, out, rerun=True).changed["apkg"] is False
    assert (out / "t.apkg").read_bytes() == before


def queued_fronts(col) -> list[str]:
    """The new cards in the order Anki's scheduler (v3, default options) will show them."""
    top = col.decks.id("T")
    col.decks.select(top)
    conf = col.decks.config_dict_for_deck_id(top)
    conf["new"]["perDay"] = 9999
    col.decks.save(conf)
    queued = col.sched.get_queued_cards(fetch_limit=100).cards
    return [text_of(col.get_card(q.card.id).note()["Front"]) for q in queued]


ORDERED = [("Zeta", [PERCEPTRON, RELU]), ("Alpha", [ADAM]), ("Mu", [TENSOR])]


@pytest.mark.slow
def test_subdeck_numbers_make_anki_show_and_teach_sections_in_bank_order(tmp_path: Path):
    bank = write(tmp_path / "bank", ORDERED,
                 'subdeck_numbers = true\ndescription = "Interview prep & more"\n')
    out = tmp_path / "out"
    build(bank, out)
    cards = cards_of(out)
    col = new_collection(tmp_path)
    import_apkg(col, out / "t.apkg")
    names = sorted(d.name for d in col.decks.all_names_and_ids() if d.name.startswith("T::"))
    assert names == ["T::01 Zeta", "T::02 Alpha", "T::03 Mu"]  # alphabetical = bank order
    assert [c["deck"] for c in cards] == ["T::01 Zeta", "T::01 Zeta", "T::02 Alpha",
                                          "T::03 Mu"]  # the JSON names the decks Anki gets
    tags = {t for nid in col.find_notes("") for t in col.get_note(nid).tags}
    assert {"section::Zeta", "section::Alpha", "section::Mu"} <= tags  # tags stay unnumbered
    assert queued_fronts(col) == [text_of(c["front"]) for c in cards]
    top = col.decks.get(col.decks.id_for_name("T"))
    assert top["desc"] == "Interview prep &amp; more"


    # A section inserted at the top renumbers the later subdecks. That alone updates no note,
    # and Anki leaves the cards it has in their decks (the README says to add sections at the
    # end, or move the cards in Anki's browser): only the new card goes to a numbered deck.
    before = snapshot(col)
    write(bank, [("Omega", [DROPOUT[1][1]]), *ORDERED], "subdeck_numbers = true\n")
    build(bank, out)
    log = import_apkg(col, out / "t.apkg")
    assert len(log.new) == 1 and not log.updated
    assert changed(before, snapshot(col)) == set()
    decks = {text_of(col.get_note(n)["Front"]): col.decks.name(col.get_note(n).cards()[0].did)
             for n in col.find_notes("")}
    assert decks == {"What is a perceptron?": "T::01 Zeta", "What does ReLU compute?":
                     "T::01 Zeta", "Which two moments does Adam track?": "T::02 Alpha",
                     "What is a tensor?": "T::03 Mu",
                     "What is the default dropout rate in torch?": "T::01 Omega"}


@pytest.mark.slow
def test_without_subdeck_numbers_decks_keep_their_names(tmp_path: Path):
    bank = write(tmp_path / "bank", ORDERED)
    out = tmp_path / "out"
    build(bank, out)
    col = new_collection(tmp_path)
    import_apkg(col, out / "t.apkg")
    names = sorted(d.name for d in col.decks.all_names_and_ids() if d.name.startswith("T::"))
    assert names == ["T::Alpha", "T::Mu", "T::Zeta"]
    # Anki gathers new cards deck by deck in its (alphabetical) deck order
    assert queued_fronts(col)[0] == "Which two moments does Adam track?"


def test_subdeck_numbers_and_description_settings(tmp_path: Path):
    from deckgen.cards import numbered_subdecks
    from deckgen.parse import read_bank

    bank = write(tmp_path / "bank", ORDERED)
    cfg = config.load(bank)
    assert cfg.subdeck_numbers is False and cfg.description is None
    (bank / "deckgen.toml").write_text('sources = ["q.md"]\nsubdeck_numbers = true\n'
                                       'description = "  Mine  "\n')
    cfg = config.load(bank)
    assert cfg.subdeck_numbers is True and cfg.description == "Mine"
    for line, message in [('subdeck_numbers = "yes"', "'subdeck_numbers' must be true or false"),
                          ('description = ""', "'description' must be a non-empty string"),
                          ("description = 3", "'description' must be a non-empty string")]:
        (bank / "deckgen.toml").write_text(f'sources = ["q.md"]\n{line}\n')
        with pytest.raises(ConfigError, match=f"deckgen.toml:2: error: {message}"):
            config.load(bank)
    parsed, _ = read_bank(bank / "q.md", "q.md", None)
    assert numbered_subdecks([parsed]) == {"Zeta": "01 Zeta", "Alpha": "02 Alpha", "Mu": "03 Mu"}
    many = write(tmp_path / "many", [(f"S{i}", [(f"Question {i}?", None)]) for i in range(100)])
    parsed, _ = read_bank(many / "q.md", "q.md", None)
    names = numbered_subdecks([parsed])
    assert names["S0"] == "001 S0" and names["S99"] == "100 S99"
