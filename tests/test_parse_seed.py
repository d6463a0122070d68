"""The default bank parses into the structure a reader of the file sees."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SEED
from deckgen.model import Figure, Kind, Text
from deckgen.parse import read_bank

EXPECTED = [line.split("\t") for line in
            (Path(__file__).parent / "data" / "seed-structure.txt").read_text().splitlines()
            if line and not line.startswith("#")]


DAMAGE = ("broken-word", "run-together", "doubled-word")


@pytest.fixture(scope="module")
def bank():
    bank, diags = read_bank(SEED, "seed.md")
    assert [d for d in diags if d.code not in DAMAGE] == []
    return bank


def test_the_conversion_damage_of_the_original_is_found_and_the_edition_has_none():
    """The original as converted from the PDF (tests/data/seed-original.md) and the edition
    in source/ (docs/BANK-EDITION.md lists the changes)."""
    _, diags = read_bank(SEED, "seed.md")
    found = [(d.code, d.loc.line) for d in diags if d.code in DAMAGE]
    assert ("broken-word", 432) in found and ("run-together", 1191) in found  # ex- cellent
    assert len([c for c, _ in found if c == "broken-word"]) == 16
    assert len([c for c, _ in found if c == "run-together"]) == 6
    assert [(c, n) for c, n in found if c == "doubled-word"] == [("doubled-word", 204),
                                                                ("doubled-word", 971)]
    _, edited = read_bank(SEED.parents[2] / "source" / "deep-learning-interview-questions.md",
                          "source.md")
    assert [d for d in edited if d.code in DAMAGE] == []


def test_all_96_question_numbers_in_order(bank):
    numbers = [q.number for q in bank.questions]
    assert numbers == [n for n in range(1, 98) if n != 77]  # the seed has no question 77


def test_every_part_kind_count_and_section(bank):
    got = [(q.key(p), p.kind.value, str(len(p.choices) or p.blanks), q.section)
           for q in bank.questions for p in q.parts]
    assert got == [tuple(row) for row in EXPECTED]


@pytest.mark.parametrize("number,parts", [
    (2, 5), (8, 2), (13, 2), (25, 4), (27, 1), (31, 1), (33, 1), (35, 2), (36, 1), (37, 4),
    (47, 5), (49, 2), (56, 5), (57, 4), (58, 4), (63, 5), (64, 2), (69, 2), (70, 5), (71, 4),
    (72, 2), (86, 6), (87, 6), (88, 2), (94, 1), (95, 4),
])
def test_part_counts_of_quirky_questions(bank, number, parts):
    q = next(q for q in bank.questions if q.number == number)
    assert len(q.parts) == parts


def _q(bank, n):
    return next(q for q in bank.questions if q.number == n)


def _text(blocks) -> str:
    return "\n".join(b.markdown for b in blocks if isinstance(b, Text))


def test_two_sub_questions_on_one_line_are_split(bank):
    q = _q(bank, 56)
    assert _text(q.parts[2].body).startswith("What were the main findings")
    assert _text(q.parts[2].body).endswith("surprising?")
    assert _text(q.parts[3].body) == "Write the formulae for the Swish activation function."
    assert q.parts[3].loc.line == q.parts[2].loc.line  # both on line 859 of the file


def test_items_indented_after_html_block_are_parts_with_file_lines(bank):
    q = _q(bank, 57)
    assert [p.loc.line for p in q.parts] == [880, 881, 882, 883]
    assert _text(q.parts[0].body).startswith("Find: TP, TN, FP, FN")


def test_broken_code_is_kept_verbatim(bank):
    code18 = _q(bank, 18).code[0].code
    assert "scipy.signal.convolve2d(arr01, filter, mode='valid')" in code18
    code61 = _q(bank, 61).code[0].code
    assert 'main()^^I^^I' in code61
    assert _q(bank, 70).code[0].code.startswith("import torch\nfrom torch import nn\n")


def test_blanks_in_math_and_code(bank):
    assert _q(bank, 31).parts[0].kind is Kind.CLOZE        # $[...]$
    assert _q(bank, 33).parts[0].blanks == 3
    assert [p.blanks for p in _q(bank, 58).parts] == [2, 4, 2, 2]  # `[...]`


def test_figures_with_captions(bank):
    figures = [b for q in bank.questions for blocks in [q.stem, *[p.body for p in q.parts]]
               for b in blocks if isinstance(b, Figure)]
    assert len(figures) == 33  # 33 <img> tags, 30 distinct images
    assert len({f.src for f in figures}) == 30
    fig = _q(bank, 1).stem[1]
    assert isinstance(fig, Figure)
    assert fig.src == "img/cross-validation-1.png"
    assert fig.caption == "Figure 8.1: Two CV approaches"
    assert fig.loc.line == 37


def test_options_of_a_part(bank):
    part = _q(bank, 61).parts[1]
    assert part.kind is Kind.CHOICE
    assert [c.markdown for c in part.choices] == ["Conv2d", "MaxPool2d", "ReLU"]


def test_statements_and_steps_stay_in_the_stem(bank):
    for n in (10, 42, 78):
        q = _q(bank, n)
        assert len(q.parts) == 1 and q.parts[0].label == ""
    assert "x1 =0.0 and x2 =0.0" in _text(_q(bank, 42).stem)


def test_trailing_text_belongs_to_the_last_part(bank):
    part = _q(bank, 83).parts[2]
    assert "Explain why his new approach may work better?" in _text(part.body)
    assert "GridSearchCV" in _text(part.body)
