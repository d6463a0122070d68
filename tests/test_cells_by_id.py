"""Each cell's output appears under that cell's code, whatever the fences look like."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import build, cards_json, write_bank
from deckgen.errors import Location
from deckgen.model import Cell
from deckgen.compose import Outputs

pytestmark = pytest.mark.slow


def test_a_labelled_fence_is_a_cell_and_outputs_stay_with_their_code(tmp_path: Path):
    """``{python} first`` once read as code by one reader and as a cell by the other: the
    first cell showed the second one's output, with no warning."""
    answers = ('## 1\n\n```{python} first\nprint("AAA")\n```\n\nThen `{python} 6 * 7` and '
               '$x = `{python} 2 + 3`$.\n\n```{python}\nprint("BBB")\n```\n')
    bank = write_bank(tmp_path / "b", "1. What?\n", answers)
    result = build(bank, tmp_path / "out")
    assert not [d for d in result.diagnostics if d.code == "cell-mismatch"]
    back = cards_json(tmp_path / "out")["cards"][0]["back"]
    a, b = back.index('"AAA"'), back.index('"BBB"')
    assert a < back.index("AAA\n</pre>") < back.index("42") < back.index("x = 5") < b \
        < back.index("BBB\n</pre>")


def test_an_output_goes_to_its_own_cell_in_any_order():
    loc = Location("a.md", 1)
    cells = [Cell('print("A")', {}, loc, 2), Cell("1 + 1", {}, loc, 5, inline=True),
             Cell("1 + 1", {}, loc, 6, inline=True)]
    outputs = Outputs([{"outputs": ["a"]}, {"value": "2"}, {"value": "2 again"}], cells)
    assert outputs.next(" 1 + 1 ") == {"value": "2"}  # met first: a cloze fill, say
    assert outputs.next('print("A")\n') == {"outputs": ["a"]}
    assert outputs.next("1 + 1") == {"value": "2 again"}
    assert outputs.mismatched == []
    assert outputs.next("3") is None and outputs.next("1 + 1") is None
    assert outputs.mismatched == ["3"]  # a cell nobody scanned; never another cell's result
    failed = Outputs([], cells)  # the cells failed: no results, nothing to report here
    assert failed.next('print("A")') is None and failed.mismatched == []


def test_cells_before_a_cloze_answer_compute_its_fills(tmp_path: Path):
    answers = ('## 1\n```{python}\n#| echo: false\nx = 6 * 7\n```\n1. `{python} x`\n'
               '2. `{python} "two" if x else "none"`\n\nBecause.\n')
    bank = write_bank(tmp_path / "b", "1. The answer is [...] and [...].\n", answers)
    result = build(bank, tmp_path / "out")
    assert [d for d in result.diagnostics if d.code != "missing-answer"] == []
    card = cards_json(tmp_path / "out")["cards"][0]
    assert "{{c1::42}}" in card["front"] and "{{c2::two}}" in card["front"]
    assert card["back"] == "<p>Because.</p>"


def test_blanks_with_the_same_fill_are_one_card(tmp_path: Path):
    """A card asking one of two blanks that are both 'one' would show the other: its own
    answer. They share the first blank's deletion; the third keeps its number (and history)."""
    from anki_helpers import import_apkg, new_collection

    bank = write_bank(tmp_path / "b", "1. There are [...] input(s), [...] output(s) and no "
                      "[...] connections.\n", "## 1\n1. one\n2. One\n3. feedback\n")
    build(bank, tmp_path / "out")
    front = cards_json(tmp_path / "out")["cards"][0]["front"]
    assert [front.count(c) for c in ("{{c1::", "{{c2::", "{{c3::")] == [2, 0, 1]
    col = new_collection(tmp_path)
    import_apkg(col, next((tmp_path / "out").glob("*.apkg")))
    cards = [col.get_card(cid) for cid in col.find_cards("")]
    assert sorted(c.ord for c in cards) == [0, 2]
    first = next(c for c in cards if c.ord == 0).question()
    import re
    asked = first[first.index('<div class="front">'):first.index("<script>")]
    shown = re.sub(r"<[^>]+>", "", asked)  # what the reader sees
    assert asked.count('class="cloze"') == 2 and "one" not in shown.lower(), shown
