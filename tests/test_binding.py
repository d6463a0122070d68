"""Answers follow their questions' identities: renumbering, inserting, deleting and moving
questions never moves an answer to another question (binding.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_bank
from deckgen import config
from deckgen.identity import part_text
from deckgen.pipeline import build, gather

QUESTIONS = ["What is a perceptron?", "What does ReLU compute?", "Why normalise inputs?",
             "What is dropout?", "Name a loss for classification."]
ANSWERS = ["A linear threshold unit.", "max(0, x).", "So that gradients are well scaled.",
           "Randomly zeroing activations while training.", "Cross-entropy."]


def questions_md(questions: list[str]) -> str:
    return "## Basics\n\n" + "\n\n---\n\n".join(
        f"{n}. {q}" for n, q in enumerate(questions, start=1)) + "\n"


def answers_md(pairs: list[tuple[int, str]]) -> str:
    return "".join(f"## {n}\n{a}\n\n" for n, a in pairs)


def make(tmp_path: Path) -> Path:
    bank = write_bank(tmp_path / "bank", questions_md(QUESTIONS),
                      answers_md(list(enumerate(ANSWERS, start=1))))
    run_build(bank)
    return bank


def run_build(bank: Path):
    cfg = config.override(config.load(bank), out=bank.parent / "out", formats=("json",))
    return build(cfg)


def read(bank: Path):
    """(question text -> answer text or None), and the diagnostics."""
    gathered = gather(config.load(bank))
    pairs = {}
    for q in gathered.banks[0].questions:
        for p in q.parts:
            pairs[part_text(q, p)[0]] = p.answer.markdown.strip() if p.answer else None
    return pairs, gathered.diagnostics


def codes(diags) -> list[str]:
    return sorted(d.code for d in diags if d.code != "missing-answer")


def test_inserting_a_question_at_the_top_keeps_every_answer_on_its_question(tmp_path):
    bank = make(tmp_path)
    (bank / "q.md").write_text(questions_md(["What is a tensor?", *QUESTIONS]))
    pairs, diags = read(bank)
    assert codes(diags) == []
    assert pairs == {"What is a tensor?": None, **dict(zip(QUESTIONS, ANSWERS))}


def test_inserting_one_before_the_last_leaves_the_new_one_unanswered(tmp_path):
    bank = make(tmp_path)
    (bank / "q.md").write_text(questions_md([*QUESTIONS[:-1], "What is a tensor?",
                                             QUESTIONS[-1]]))
    pairs, _ = read(bank)
    assert pairs["What is a tensor?"] is None
    assert pairs[QUESTIONS[-1]] == ANSWERS[-1]


def test_renumbering_both_files_by_hand_works_too(tmp_path):
    bank = make(tmp_path)
    (bank / "q.md").write_text(questions_md(["What is a tensor?", *QUESTIONS]))
    (bank / "answers" / "a.md").write_text(answers_md(list(enumerate(ANSWERS, start=2))))
    pairs, diags = read(bank)
    assert codes(diags) == []
    assert pairs == {"What is a tensor?": None, **dict(zip(QUESTIONS, ANSWERS))}


def test_a_deleted_questions_answer_is_reported_and_attached_nowhere(tmp_path):
    bank = make(tmp_path)
    (bank / "q.md").write_text(questions_md(QUESTIONS[:2] + QUESTIONS[3:]))  # no "normalise"
    pairs, diags = read(bank)
    orphan = [d for d in diags if d.code == "orphan-answer"]
    assert len(orphan) == 1 and orphan[0].loc.line == 7  # "## 3" in the answers file
    assert "Why normalise inputs?" in orphan[0].message
    assert pairs == dict(zip(QUESTIONS[:2] + QUESTIONS[3:], ANSWERS[:2] + ANSWERS[3:]))


def test_an_edited_answer_follows_its_question_when_only_the_questions_were_renumbered(
        tmp_path):
    bank = make(tmp_path)
    (bank / "q.md").write_text(questions_md(["What is a tensor?", *QUESTIONS]))
    edited = list(enumerate(ANSWERS, start=1))
    edited[1] = (2, "max(0, x), elementwise.")  # heading 2 still belongs to ReLU
    (bank / "answers" / "a.md").write_text(answers_md(edited))
    pairs, diags = read(bank)
    assert codes(diags) == []
    assert pairs[QUESTIONS[1]] == "max(0, x), elementwise."
    assert pairs["What is a tensor?"] is None


def test_ambiguous_evidence_stops_with_both_places_named(tmp_path):
    bank = make(tmp_path)
    # the question file is renumbered, and the only answer left is edited: no other answer
    # shows whether the answers file was renumbered too
    (bank / "q.md").write_text(questions_md(["What is a tensor?", *QUESTIONS]))
    (bank / "answers" / "a.md").write_text(answers_md([(2, "max(0, x), elementwise.")]))
    _, diags = read(bank)
    [d] = [d for d in diags if d.code == "answer-ambiguous"]
    assert d.severity.value == "error"
    assert "now 3 at" in d.message and "q.md:11" in d.message and "q.md:7" in d.message


def test_a_rewritten_question_does_not_inherit_the_old_answer_silently(tmp_path):
    bank = make(tmp_path)
    changed = list(QUESTIONS)
    changed[2] = "Describe the vanishing gradient problem in recurrent networks."
    (bank / "q.md").write_text(questions_md(changed))
    _, diags = read(bank)
    [d] = [d for d in diags if d.code == "answer-ambiguous"]
    assert "Why normalise inputs?" in d.message and "q.md:11" in d.message


def test_answers_bound_after_a_build_stay_bound(tmp_path):
    bank = make(tmp_path)
    (bank / "q.md").write_text(questions_md(["What is a tensor?", *QUESTIONS]))
    run_build(bank)
    lock = (bank / "deckgen.lock").read_text()
    assert '"answer_key": "2"' in lock  # ReLU's answer still comes from heading 2
    pairs, diags = read(bank)
    assert codes(diags) == [] and pairs[QUESTIONS[1]] == ANSWERS[1]


@pytest.mark.parametrize("layout", ["answers/{stem}.md", "answers/{stem}/a.md",
                                    "{stem}.answers.md"])
def test_a_bank_of_two_files_with_answers_for_each(tmp_path, layout):
    bank = tmp_path / "two"
    bank.mkdir()
    (bank / "deckgen.toml").write_text('name = "Two"\nsources = ["*.md"]\nanswers = '
                                       '["answers/**/*.md", "*.answers.md"]\n')
    (bank / "ml.md").write_text("1. What is a perceptron?\n")
    (bank / "sql.md").write_text("1. What is a primary key?\n")
    for stem, text in (("ml", "A linear threshold unit."), ("sql", "A unique row id.")):
        path = bank / layout.format(stem=stem)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"## 1\n{text}\n")
    gathered = gather(config.load(bank))
    assert codes(gathered.diagnostics) == []
    got = {b.path.split("/")[-1]: b.questions[0].parts[0].answer.markdown.strip()
           for b in gathered.banks}
    assert got == {"ml.md": "A linear threshold unit.", "sql.md": "A unique row id."}


def test_an_answers_file_for_no_question_file_is_an_error(tmp_path):
    bank = tmp_path / "two"
    (bank / "answers").mkdir(parents=True)
    (bank / "deckgen.toml").write_text('sources = ["*.md"]\n')
    (bank / "ml.md").write_text("1. What is a perceptron?\n")
    (bank / "sql.md").write_text("1. What is a primary key?\n")
    (bank / "answers" / "misc.md").write_text("## 1\nSomething.\n")
    diags = gather(config.load(bank)).diagnostics
    assert [d.code for d in diags if d.severity.value == "error"] == ["answers-unmatched"]


def test_renumber_shows_then_rewrites_headings_and_the_next_build_changes_nothing(
        tmp_path, monkeypatch):
    from click.testing import CliRunner

    from deckgen.cli import main

    bank = make(tmp_path)
    (bank / "q.md").write_text(questions_md(["What is a tensor?", *QUESTIONS]))
    run_build(bank)
    out = bank.parent / "out"
    before = {p.name: p.read_bytes() for p in out.iterdir()
              if p.is_file() and not p.name.startswith(".deckgen-build")}  # inputs changed
    monkeypatch.chdir(bank)
    answers = (bank / "answers" / "a.md").read_text()
    shown = CliRunner().invoke(main, ["renumber"])
    assert shown.exit_code == 0, shown.output
    assert "answers/a.md:1: ## 1 -> ## 2" in shown.output
    assert "5 heading(s) would change" in shown.output
    assert (bank / "answers" / "a.md").read_text() == answers  # a preview writes nothing
    written = CliRunner().invoke(main, ["renumber", "--write"])
    assert written.exit_code == 0, written.output
    assert (bank / "answers" / "a.md").read_text() == answers_md(
        list(enumerate(ANSWERS, start=2)))
    lock = (bank / "deckgen.lock").read_text()
    result = run_build(bank)
    assert (bank / "deckgen.lock").read_text() == lock
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()
            and p.name in before} == before
    assert not any(result.changed.values())
    again = CliRunner().invoke(main, ["renumber"])
    assert "already has its question's number" in again.output


def test_accept_clears_a_stale_answer_warning(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from deckgen.cli import main

    bank = make(tmp_path)
    changed = list(QUESTIONS)
    changed[1] = "What does the ReLU activation compute?"
    (bank / "q.md").write_text(questions_md(changed))
    _, diags = read(bank)
    assert [d.code for d in diags if d.code == "stale-answer"] == ["stale-answer"]
    monkeypatch.chdir(bank)
    result = CliRunner().invoke(main, ["accept", "2", "9"])
    assert "accepted: 2" in result.output and "no stale answer for: 9" in result.output
    _, diags = read(bank)
    assert not [d for d in diags if d.code == "stale-answer"]
    pairs, _ = read(bank)
    assert pairs[changed[1]] == ANSWERS[1]


def test_accept_binds_an_ambiguous_answer_to_the_question_with_its_number(tmp_path,
                                                                          monkeypatch):
    from click.testing import CliRunner

    from deckgen.cli import main

    bank = make(tmp_path)
    changed = list(QUESTIONS)
    changed[2] = "Describe the vanishing gradient problem in recurrent networks."
    (bank / "q.md").write_text(questions_md(changed))
    _, diags = read(bank)
    assert "`deckgen accept 3`" in next(d.message for d in diags if d.code == "answer-ambiguous")
    monkeypatch.chdir(bank)
    result = CliRunner().invoke(main, ["accept", "3"])
    assert "accepted: 3" in result.output, result.output
    pairs, diags = read(bank)
    assert codes(diags) == []
    assert pairs[changed[2]] == ANSWERS[2]
    run_build(bank)  # and it stays bound
    pairs, diags = read(bank)
    assert codes(diags) == [] and pairs[changed[2]] == ANSWERS[2]


def test_diff_does_not_call_a_renumbered_note_updated(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from deckgen.cli import main

    bank = write_bank(tmp_path / "bank", questions_md(QUESTIONS),
                      answers_md(list(enumerate(ANSWERS, start=1))))
    monkeypatch.chdir(bank)
    assert CliRunner().invoke(main, ["build", "-f", "apkg"]).exit_code == 0
    (bank / "q.md").write_text(questions_md(["What is a tensor?", *QUESTIONS]))
    result = CliRunner().invoke(main, ["diff", "--json"])
    assert result.exit_code == 0, result.output
    import json
    assert json.loads(result.output)["counts"] == {"new": 1, "updated": 0, "unchanged": 5,
                                                   "orphaned": 0}


def test_when_too_many_edits_to_compare_the_build_says_so(tmp_path, monkeypatch):
    import deckgen.identity as identity

    bank = make(tmp_path)
    monkeypatch.setattr(identity, "MAX_PAIRS", 3)
    (bank / "q.md").write_text(questions_md([q.replace("?", " exactly?") for q in QUESTIONS]))
    _, diags = read(bank)
    [d] = [d for d in diags if d.code == "identity-limit"]
    assert d.severity.value == "warning" and d.loc.line == 3


def test_new_guids_differ_between_banks_but_guids_in_the_lock_never_change(tmp_path):
    from deckgen.identity import Entry, Lock, assign
    from deckgen.ids import note_guid
    from deckgen.parse import read_bank

    (tmp_path / "q.md").write_text("1. What? <!-- id: what -->\n\n---\n\n2. Why?\n")
    bank, _ = read_bank(tmp_path / "q.md", "q.md")
    a = assign([bank], Lock(tmp_path / "a.lock"), "Deck A").guids
    b = assign([bank], Lock(tmp_path / "b.lock"), "Deck B").guids
    assert a[("q.md", "1")] != b[("q.md", "1")] and a[("q.md", "2")] != b[("q.md", "2")]
    old = Lock(tmp_path / "old.lock", [Entry(note_guid("id", "what"), "q.md", "1", "What?"),
                                       Entry(note_guid("q.md", "2"), "q.md", "2", "Why?")])
    kept = assign([bank], old, "Deck A").guids
    assert kept == {("q.md", "1"): note_guid("id", "what"), ("q.md", "2"): note_guid("q.md", "2")}
