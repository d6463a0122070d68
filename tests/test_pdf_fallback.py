"""One bad card never takes the deck down: formulas nothing can draw print as their source,
cards Typst cannot set print as plain text, each with a warning naming its file:line; and a
bad [print] setting is a clean diagnostic, never a traceback."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, build, cards_json, write_bank
from deckgen.errors import BuildFailed, ConfigError, Location, Severity
from deckgen.render.pdf import (PrintOptions, check_print_options, print_options,
                                print_table_location)
from deckgen.content import Cloze, CodeBlock, Element, Math, Text
from deckgen.render.plain import to_plain

# tex2typst turns this into Typst that does not compile, and ziamath "draws" it as an SVG of
# negative size, which Typst refuses: before the fix it failed the whole build
BAD_FORMULA = r"\newcommand{\R}{\mathbb{R}}"
# passes the media sanity check (it has "<svg"), but Typst cannot read it
BROKEN_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="-1" height="-1"/>'

QUESTIONS = f"""## Basics

1. Given ${BAD_FORMULA}$, what is $\\R^2$?

---

2. What is $x^2 + y^2$ for $x = 3$, $y = 4$?

$$a = b \\tag{{*}}$$

---

3. What does the plot show?

![a loss curve](img/bad.svg)

---

4. Is $\\sqrt{{2}}$ rational?
"""
ANSWERS = """## 1
The plane.

## 2
**Twenty-five.**

## 3
A falling *loss*, as $L(t) = e^{-t}$.

## 4
No.
"""


def _pdf_text(path: Path) -> str:
    import pymupdf
    return "".join(page.get_text() for page in pymupdf.open(path))


def _mono_text(path: Path) -> str:
    """The text set in the monospace font."""
    import pymupdf
    out = []
    for page in pymupdf.open(path):
        for block in page.get_text("dict")["blocks"]:
            for line in block.get("lines", []):
                out.extend(s["text"] for s in line["spans"] if "Mono" in s["font"])
    return "".join(out)


def _bank(root: Path) -> Path:
    bank = write_bank(root, QUESTIONS, ANSWERS)
    (bank / "img").mkdir()
    (bank / "img" / "bad.svg").write_text(BROKEN_SVG)
    return bank


def _by_code(diags, code: str):
    return [d for d in diags if d.code == code]


def _q_md(bank: Path) -> str:
    from deckgen.pipeline import display_path
    return display_path(bank / "q.md")


@pytest.mark.slow
def test_untypesettable_formula_prints_as_its_source(tmp_path: Path):
    bank = _bank(tmp_path / "b")
    out = tmp_path / "out"
    result = build(bank, out)
    for name in ("t.apkg", "t.json", "t-cards.pdf"):
        assert (out / name).is_file(), name
    assert [c["ref"] for c in cards_json(out)["cards"]] == ["Q1", "Q2", "Q3", "Q4"]
    # the formula is on the printed card, as monospace text (no Typst read it as markup)
    pdf = out / "t-cards.pdf"
    assert BAD_FORMULA in _mono_text(pdf)
    # the warning names the card's file:line and the formula
    [warning] = _by_code(result.diagnostics, "formula-fallback-source")
    assert warning.severity is Severity.WARNING
    assert warning.loc == Location(_q_md(bank), 3)
    assert BAD_FORMULA in warning.message and "Q1" in warning.message
    assert str(warning).startswith(f"{_q_md(bank)}:3: warning:")
    assert any("1 left as LaTeX source" in n for n in result.notes)
    # the other formulas of the card and of the deck are typeset as usual
    text = _pdf_text(pdf)
    assert "\\sqrt" not in text and "x^2" not in text
    assert "(*)" in text  # an equation's \tag is text, never Typst markup

    # a rebuild takes the formula from the cache and still says so
    again = build(bank, out, rerun=True)
    assert [str(d) for d in _by_code(again.diagnostics, "formula-fallback-source")] == \
        [str(warning)]


@pytest.mark.slow
def test_a_card_typst_cannot_set_prints_as_plain_text(tmp_path: Path):
    bank = _bank(tmp_path / "b")
    out = tmp_path / "out"
    result = build(bank, out)
    [warning] = _by_code(result.diagnostics, "pdf-plain-text")
    assert warning.severity is Severity.WARNING
    assert warning.loc == Location(_q_md(bank), 13)
    assert "Q3" in warning.message and "SVG" in warning.message
    assert any("Q3 could not be typeset" in n for n in result.notes)
    text = _pdf_text(out / "t-cards.pdf")
    # Q3's text is there, plainly: its figure as its alt text, its formula as source
    for words in ("What does the plot show?", "[a loss curve]", "A falling loss",
                  "$L(t) = e^{-t}$", "printed as plain text"):
        assert words in text, words
    # the other cards are set normally: every card appears by its footer reference, and
    # only Q3 is plain
    assert text.count("printed as plain text") == 2  # Q3's front and back
    for ref in ("Q1", "Q2", "Q3", "Q4"):
        assert ref in text
    assert "Twenty-five." in text and "\\sqrt" not in text

    # a rebuild takes the chunk from the cache (no second attempt) and keeps the warning
    infos = [json.loads(p.read_text()) for p in (out / "cache" / "pdf").glob("*.json")
             if not p.name.startswith("math")]
    assert any(info.get("plain") for info in infos)
    again = build(bank, out, rerun=True)
    assert [str(d) for d in _by_code(again.diagnostics, "pdf-plain-text")] == [str(warning)]


@pytest.mark.slow
def test_strict_fails_on_these_warnings_and_keeps_previous_outputs(tmp_path: Path, monkeypatch):
    # only the renderer's warnings here: the formula's \newcommand would otherwise stop a
    # strict build at check time already (unsafe-latex), before the PDF is typeset
    monkeypatch.setattr("deckgen.render.sanitize.unsafe_latex_in_bank", lambda bank: [])
    bank = _bank(tmp_path / "b")
    out = tmp_path / "out"
    build(bank, out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert {"t.apkg", "t.json", "t-cards.pdf"} <= set(before)
    answers = bank / "answers" / "a.md"
    answers.write_text(answers.read_text().replace("No.", "No, it is irrational."))
    with pytest.raises(BuildFailed) as failed:
        build(bank, out, strict=True)
    codes = {d.code for d in failed.value.diagnostics}
    assert {"formula-fallback-source", "pdf-plain-text"} <= codes
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before
    # without --strict the same bank builds
    build(bank, out)
    assert "irrational" in (out / "t.json").read_text()


def test_plain_text_of_a_card():
    content = (Element("p", (Text("Fill "), Element("span", (Cloze(1, (Text("in"),)),)),
                             Text(" "), Math("x < 1", False))),
               CodeBlock("a\n  b"), Element("ol", (Element("li", (Text("one"),)),
                                                   Element("li", (Text("two"),)))),
               Element("img", (), (("src", "x.png"), ("alt", "plot"))))
    front = to_plain(content, "front")
    assert front.startswith("Fill [1] $x < 1$")
    assert "a\n  b" in front and "- one\n" in front and "[plot]" in front
    assert "Fill in $x < 1$" in to_plain(content, "back")


BAD_TABLES = [
    ({"back_offset": "abc"}, "back_offset"),
    ({"back_offset": [1]}, "back_offset"),
    ({"back_offset": [1, "x"]}, "back_offset"),
    ({"back_offset": 3}, "back_offset"),
    ({"back_offset": [math.nan, 0]}, "back_offset"),
    ({"back_offset": [True, 0]}, "back_offset"),
    ({"questions": "x-y"}, "question list"),
    ({"questions": "9-5"}, "backwards"),
    ({"questions": "1-999999999"}, "more than"),
    ({"questions": ["a"]}, "questions"),
    ({"questions": [0]}, "questions"),
    ({"questions": 2.5}, "questions"),
    ({"layout": "duplex"}, "layout"),
    ({"layout": 3}, "layout"),
    ({"paper": "a5"}, "paper"),
    ({"paper": ["a4"]}, "paper"),
    ({"card": None}, "card"),
    ({"section": 5}, "section"),
    ({"colour": "red"}, "colour"),
]


@pytest.mark.parametrize("table,words", BAD_TABLES, ids=[str(t) for t, _ in BAD_TABLES])
def test_a_bad_print_setting_is_a_clean_diagnostic(table, words):
    where = Location("b/deckgen.toml", 7)
    [diag] = check_print_options(table, where)
    assert diag.loc == where and diag.code == "print-options"
    assert diag.severity is Severity.ERROR and words in diag.message
    with pytest.raises(ConfigError) as raised:
        print_options(table)
    assert raised.value.diagnostic.message == diag.message


def test_every_problem_of_a_print_table_is_reported():
    table = {"layout": "duplex", "paper": "A4", "back_offset": "1,x", "questions": "1,a",
             "colour": "red"}
    messages = [d.message for d in check_print_options(table, None)]
    assert len(messages) == 4 and not any("unknown paper" in m for m in messages)  # A4 is fine
    assert check_print_options("not a table", None)[0].code == "print-options"  # type: ignore


def test_good_print_tables_pass_and_are_normalised():
    good = {"layout": "fold", "paper": "Letter", "card": "INDEX", "back_offset": "1.5, -0.5",
            "section": "Basics", "questions": "1,5-7"}
    assert check_print_options(good, None) == []
    assert print_options(good) == PrintOptions("fold", "letter", "index", (1.5, -0.5),
                                               "Basics", (1, 5, 6, 7))
    toml_style = {"back_offset": [1, -2], "questions": [3, 4]}
    assert check_print_options(toml_style, None) == []
    assert print_options(toml_style).back_offset == (1.0, -2.0)
    assert check_print_options({}, None) == [] and print_options({}) == PrintOptions()
    with pytest.raises(ConfigError):  # options made in code follow the same rules
        PrintOptions(layout="sideways").check()


def test_print_table_location(tmp_path: Path):
    toml = tmp_path / "deckgen.toml"
    toml.write_text('name = "T"\n\n[print]\npaper = "a5"\n')
    assert print_table_location(toml, "shown/deckgen.toml") == Location("shown/deckgen.toml", 3)
    toml.write_text('name = "T"\n')
    assert print_table_location(toml) == Location(str(toml), 1)
    assert print_table_location(None) is None


def test_checking_print_options_does_not_import_typst():
    code = ("import sys; from deckgen.render.pdf import check_print_options as c; "
            "assert c({'paper': 'a5'}, None); assert 'typst' not in sys.modules, 'typst'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
