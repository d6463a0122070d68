"""A bank written to be awkward (tests/banks/awkward): raw HTML open and closed anyhow, tables,
nested lists, code of every kind, display math inside a paragraph, equation environments,
a broken formula, blanks as code spans, text and formulas, shared fills, options, a
true/false verdict, cells with LaTeX, text and plot outputs, hostile computed text. Every
output is built from the same content and keeps to it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, build
from deckgen import content as c
from deckgen.render.html import field_html
from deckgen.render.plain import to_plain

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("awkward")
    shutil.copytree(ROOT / "tests" / "banks" / "awkward", root / "bank")
    result = build(root / "bank", root / "out", strict=False)
    return result


def test_it_builds_every_output(built):
    assert {"apkg", "json", "pdf"} <= set(built.written)
    assert not [d for d in built.diagnostics if d.severity.name == "ERROR"]


def test_blanks_are_asked_in_the_order_they_are_written(built):
    card = next(x for x in built.deck.cards if x.key == "7")
    assert [(z.number, c.text_of(z.fill)) for z in c.clozes(card.front)] == [
        (1, "cross-entropy"), (2, "learning"), (2, "Learning"), (4, "\\alpha")]
    assert to_plain(card.front, "front").startswith("Fill: the [1] loss and the [2] rate")


def test_no_output_carries_cloze_syntax_the_bank_or_a_cell_wrote(built):
    for card in built.deck.cards:
        for side in (card.context, card.front, card.back):
            html = field_html(side)
            assert len(re.findall(r"\{\{c\d+::", html)) == len(c.clozes(side)), card.ref
            assert "<script" not in html and "javascript:" not in html.replace(
                "[bad link](javascript:alert(1))", "")


def test_cells_keep_their_outputs_and_pick_a_type_per_output(built):
    card = next(x for x in built.deck.cards if x.key == "10")
    cells = [n for n in c.walk(card.back) if isinstance(n, c.Cell)]
    assert [x.cell for x in cells] == ["10#1", "10#2", "10#3", "10#4"]
    latex, printed, plot, first = cells
    assert latex.outputs[0].get("text/latex") and latex.outputs[0].get("text/plain")
    assert printed.code is None and "{{c2::x}}" in printed.outputs[0].get("text/plain")
    assert plot.outputs[0].choose(("image/svg+xml", "image/png"))[1] in card.media
    assert c.text_of(plot.outputs[0].caption) == "A small plot"
    assert first.outputs[0].get("text/plain") == "3"  # `{python} first` is a cell too
    html = field_html(card.back)
    assert "\\[x \\cos" in html and "{&#123;c2::x&#125;}" in html
    assert Path(built.written["pdf"]).stat().st_size > 0
