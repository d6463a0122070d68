"""`deckgen check` finds the damage a PDF-to-Markdown conversion leaves, in anyone's bank."""

from __future__ import annotations

import pytest

from deckgen.parse import read_text


def found(markdown: str) -> list[tuple[str, int]]:
    return [(d.code, d.loc.line) for d in read_text(markdown, "q.md").diagnostics
            if d.code in ("broken-word", "run-together", "doubled-word")]


@pytest.mark.parametrize("text, expected", [
    ("1. Is it an ex- cellent skill?\n", [("broken-word", 1)]),
    ("1. Is it an ex-\n   cellent skill?\n", [("broken-word", 2)]),  # broken at a line end
    ("1. What is\n   a meas- ure of spread?\n", [("broken-word", 2)]),
    ("1. Whichwell-knownmetricisbeingused here?\n", [("run-together", 1)]),
    ("1. Help him understand,during BN, why?\n", [("run-together", 1)]),
    ("1. As depicted in in (8.5), why?\n", [("doubled-word", 1)]),
    ("1. A listing of the of the\n   VGG11 net?\n", [("doubled-word", 1)]),
    ("1. Is it the\n   the same?\n", [("doubled-word", 1)]),  # across the line end
    # not damage
    ("1. What it had had, and so that that works?\n", []),
    ("1. Is $a$ $a$ or `x x` the same?\n", []),  # math and code
    ("1. Is the theory sound?\n", []),  # 'the' then 'theory': not a repeat
    ("1. Compare pre- and post-training accuracy?\n", []),  # a suspended hyphen
    ("1. Is it first- or second-order?\n", []),
    ("1. Why use a 3- layer net?\n", []),  # digits: not a broken word
    ("1. Explain `some_identifier_that_is_very_long_indeed` and `a- b`?\n", []),  # code
    ("1. Is $x- y$ small?\n", []),  # math
    ("1. See <https://example.org/averyveryverylongpathsegment> now?\n", []),  # a link
    ("1. Is self-supervised learning - as some say - a fad?\n", []),  # dashes, compounds
    ("1. Is internationalization counterrevolutionary?\n", []),  # 20 letters: words
    ("1. What does this print?\n\n   ```\n   ex- cellent,words\n   ```\n", []),  # a code block
])
def test_conversion_damage(text, expected):
    assert found(text) == expected


def test_a_paragraph_reports_the_first_few_only():
    text = "1. Is " + " ".join(f"wo- rd{chr(97 + i)}" for i in range(10)) + "?\n"
    assert len(found(text)) == 3
