"""Answer shapes (deckgen.shapes): found without rendering, and exactly what the cards report."""

from __future__ import annotations

from pathlib import Path

import pytest

from deckgen import shapes
from deckgen.answers import attach, read_answers
from deckgen.cards import build_deck
from deckgen.errors import Diagnostic, Location, Severity
from deckgen.media import MediaStore
from deckgen.model import Bank, Kind
from deckgen.parse import parse_text

CODES = {"no-correct-options", "bad-correct-options", "no-cloze-fills", "cloze-fill-count",
         "no-verdict"}

QUESTIONS = """## Basics

1. Which of the following are activation functions? Mark all that apply.
    1. ReLU
    2. Cross-entropy
    3. tanh

2. **True or False:** dropout is active at test time.

3. The derivative of the logistic function is $\\sigma(x)$ times [...], and of tanh it is [...].

4. Answer both:
    1. Which of the following is convex? Choose one.
        1. $x^2$
        2. $\\sin x$
    2. **True or False:** ReLU is differentiable at 0.
    3. Softmax of a one-element vector is [...].
    4. Why is batch norm useful?
"""

# Answers with the right shape for every part: no diagnostics.
GOOD = {
    "1": "Correct: 1, 3\n\nCross-entropy is a loss.",
    "2": "**False.** Dropout is switched off at test time.",
    # a computed fill, and a cell after the fills: two fills, three cells
    "3": "1. `{python} 1 - 0.5`\n2. $1 - \\tanh^2 x$\n\n```{python}\nprint(0.5)\n```\n\nThat is `{python} 0.5`.",
    "4.1": "**Correct: 1**\n\n$\\sin$ is not convex.",
    "4.2": "**False.** It has no derivative at 0.",
    "4.3": "1. 1",
    "4.4": "It keeps activations in range.",
}


def answers_text(answers: dict[str, str]) -> str:
    return "".join(f"## {key}\n{body}\n\n" for key, body in answers.items())


def heading_line(answers: dict[str, str], key: str) -> int:
    """Line of ``## key`` in the answers file written by :func:`answers_text`."""
    return answers_text(answers).split("\n").index(f"## {key}") + 1


def make_bank(tmp_path: Path, answers: dict[str, str]) -> Bank:
    questions, sections, diags = parse_text(QUESTIONS, "q.md")
    assert [d for d in diags if d.severity is Severity.ERROR] == []
    kinds = {q.key(p): p.kind for q in questions for p in q.parts}
    assert kinds == {"1": Kind.CHOICE, "2": Kind.TRUEFALSE, "3": Kind.CLOZE, "4.1": Kind.CHOICE,
                     "4.2": Kind.TRUEFALSE, "4.3": Kind.CLOZE, "4.4": Kind.OPEN}
    path = tmp_path / "a.md"
    path.write_text(answers_text(answers))
    found, problems = read_answers(path, "a.md")
    assert problems == []
    bank, problems = attach(Bank("q.md", str(tmp_path), tuple(questions),
                                 sections=tuple(sections)), found)
    assert problems == []
    return bank


def with_answer(key: str, body: str) -> dict[str, str]:
    return {**GOOD, key: body}


# (key, answer, expected message, code, severity)
CASES = [
    ("1", "ReLU and tanh.",
     "1 is multiple choice: start its answer with a line like 'Correct: 1, 3'",
     "no-correct-options", Severity.ERROR),
    ("4.1", "The first one: $x^2$.",
     "4.1 is multiple choice: start its answer with a line like 'Correct: 1, 3'",
     "no-correct-options", Severity.ERROR),
    ("1", "Correct: 1, 4, 7\n\nOnly three options exist.",
     "1 has 3 options; 'Correct' names 4, 7", "bad-correct-options", Severity.ERROR),
    ("4.1", "Correct: 0", "4.1 has 2 options; 'Correct' names 0",
     "bad-correct-options", Severity.ERROR),
    ("3", "It is $1 - \\sigma(x)$ and $1 - \\tanh^2 x$.",
     "3 has 2 blank(s): start its answer with a numbered list of the fills, one per blank",
     "no-cloze-fills", Severity.ERROR),
    ("4.3", "- 1\n",
     "4.3 has 1 blank(s): start its answer with a numbered list of the fills, one per blank",
     "no-cloze-fills", Severity.ERROR),
    ("3", "1. $1 - \\sigma(x)$\n\nThe second is left out.",
     "3 has 2 blank(s) but its answer lists 1 fill(s)", "cloze-fill-count", Severity.ERROR),
    ("4.3", "1. 1\n2. one",
     "4.3 has 1 blank(s) but its answer lists 2 fill(s)", "cloze-fill-count", Severity.ERROR),
    # fills are list items, not cells: one item with two computed values is one fill
    ("3", "1. `{python} 1 - 0.5` and $`{python} 2`$",
     "3 has 2 blank(s) but its answer lists 1 fill(s)", "cloze-fill-count", Severity.ERROR),
    ("2", "Dropout is switched off at test time.",
     "2 is true/false: start its answer with **True.** or **False.**",
     "no-verdict", Severity.WARNING),
    ("4.2", "It has no derivative at 0.",
     "4.2 is true/false: start its answer with **True.** or **False.**",
     "no-verdict", Severity.WARNING),
]
IDS = [f"{code}-{key}" for key, _, _, code, _ in CASES]


def test_good_answers_have_no_shape_problems(tmp_path: Path) -> None:
    assert shapes.check_answers(make_bank(tmp_path, GOOD)) == []


@pytest.mark.parametrize(("key", "body", "message", "code", "severity"), CASES, ids=IDS)
def test_check_answers_reports(tmp_path: Path, key: str, body: str, message: str, code: str,
                               severity: Severity) -> None:
    answers = with_answer(key, body)
    expected = Diagnostic(Location("a.md", heading_line(answers, key)), message, code, severity)
    assert shapes.check_answers(make_bank(tmp_path, answers)) == [expected]


def cards_diagnostics(bank: Bank, root: Path) -> list[Diagnostic]:
    """What the card builder reports, with no cell results (no worker starts)."""
    _, diags = build_deck([bank], "T", {}, MediaStore(root))
    return [d for d in diags if d.code in CODES]


@pytest.mark.parametrize(("key", "body", "message", "code", "severity"), CASES, ids=IDS)
def test_check_agrees_with_build(tmp_path: Path, key: str, body: str, message: str, code: str,
                                 severity: Severity) -> None:
    bank = make_bank(tmp_path, with_answer(key, body))
    found = shapes.check_answers(bank)
    assert found  # the case is not vacuous
    assert cards_diagnostics(bank, tmp_path) == found


def test_check_agrees_with_build_on_many_problems(tmp_path: Path) -> None:
    answers = {key: body for key, body, *_ in CASES}  # the last case of each key
    bank = make_bank(tmp_path, answers)
    found = shapes.check_answers(bank)
    assert [d.code for d in found] == ["bad-correct-options", "no-verdict", "cloze-fill-count",
                                       "bad-correct-options", "no-verdict", "cloze-fill-count"]
    assert cards_diagnostics(bank, tmp_path) == found
    assert cards_diagnostics(make_bank(tmp_path, GOOD), tmp_path) == []


def part_of(bank: Bank, key: str):
    return next(p for q in bank.questions for p in q.parts if q.key(p) == key)


def test_correct_options_parses_numbers_and_rest(tmp_path: Path) -> None:
    bank = make_bank(tmp_path, with_answer("1", "**Correct: 1 and 3**.\nCross-entropy is a loss."))
    part = part_of(bank, "1")
    assert part.answer is not None
    numbers, rest, diags = shapes.correct_options(part, part.answer, "1")
    assert (numbers, rest, diags) == ({1, 3}, "Cross-entropy is a loss.", [])
    none = make_bank(tmp_path, with_answer("1", "Correct: none\n\nNone of them."))
    part = part_of(none, "1")
    assert part.answer is not None
    assert shapes.correct_options(part, part.answer, "1") == (set(), "None of them.", [])


def test_cloze_fill_spans_are_unrendered_markdown(tmp_path: Path) -> None:
    body = "1. `{python} s`\n2. $1 -\n   \\tanh^2 x$\n\nBoth follow from the chain rule."
    bank = make_bank(tmp_path, with_answer("3", body))
    part = part_of(bank, "3")
    assert part.answer is not None and len(part.answer.cells) == 1
    fills, rest, diags = shapes.cloze_fill_spans(part, part.answer, "3")
    assert fills == ["`{python} s`", "$1 - \\tanh^2 x$"]
    assert rest == "Both follow from the chain rule."
    assert diags == []


def test_verdict(tmp_path: Path) -> None:
    bank = make_bank(tmp_path, {**GOOD, "2": "*true*: it is.", "4.2": "Truly not."})
    for key, expected in [("2", "true"), ("4.2", None)]:
        answer = part_of(bank, key).answer
        assert answer is not None
        assert shapes.verdict(answer) == expected
    answer = part_of(make_bank(tmp_path, GOOD), "2").answer
    assert answer is not None and shapes.verdict(answer) == "false"


def test_unanswered_and_open_parts_are_not_checked(tmp_path: Path) -> None:
    bank = make_bank(tmp_path, {"4.4": "Correct: 9"})  # an open part; the rest unanswered
    assert shapes.check_answers(bank) == []
    assert cards_diagnostics(bank, tmp_path) == []
