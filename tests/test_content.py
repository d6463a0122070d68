"""Cards hold typed content (deckgen.content), not HTML; each output renders it itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_bank
from deckgen import config
from deckgen import content as c
from deckgen.compose import ComposeContext, compose
from deckgen.errors import Location
from deckgen.media import MediaStore
from deckgen.pipeline import gather, make_deck
from deckgen.render.html import field_html
from deckgen.render.plain import to_plain
from deckgen.render.typst_markup import content_to_typst

QUESTIONS = """# T

## S

1. The `[...]` loss, the [...] rate and $[...]$ again.

---

2. **True or False:** Zero is even.

---

3. Mark all the correct choices: which are primes?
    1. Two
    2. Four
    3. Five

---

4. Compute it.
"""
ANSWERS = """## 1
1. cross-entropy
2. learning
3. \\alpha

## 2
**True.** It is divisible by two.

## 3
Correct: 1, 3

## 4
```{python}
import sympy
sympy.Symbol("x") ** 2
```

It is `{python} 6 * 7`.
"""


@pytest.fixture(scope="module")
def deck(tmp_path_factory):
    bank = write_bank(tmp_path_factory.mktemp("b"), QUESTIONS, ANSWERS)
    cfg = config.override(config.load(bank), out=bank / "out")
    deck, _, _ = make_deck(cfg, gather(cfg))
    return {card.key: card for card in deck.cards}


def _types(content: c.Content) -> set[type]:
    return {type(node) for node in c.walk(content)}


def test_no_side_of_a_card_is_html(deck):
    for card in deck.values():
        for side in (card.context, card.front, card.back):
            assert isinstance(side, tuple)
            assert all(isinstance(n, c.Node) for n in c.walk(side))  # type: ignore[arg-type]
            text = "".join(n.text for n in c.walk(side) if isinstance(n, c.Text))
            assert "<" not in text and "{{" not in text  # no markup, no Anki syntax


@pytest.mark.slow
def test_each_kind_is_its_own_node(deck):
    blanks = c.clozes(deck["1"].front)
    # numbered in the order they are written, whether a code span, text or formula
    assert [(b.number, c.text_of(b.fill)) for b in blanks] == [
        (1, "cross-entropy"), (2, "learning"), (3, "\\alpha")]
    assert isinstance(blanks[0], c.Cloze) and field_html(deck["1"].front).startswith(
        "<p>The <code>{{c1::cross-entropy}}</code> loss, the {{c2::learning}} rate")
    [verdict] = [n for n in deck["2"].back if isinstance(n, c.Verdict)]
    assert verdict.value == "true"
    [marked] = [n for n in deck["3"].back if isinstance(n, c.Choices)]
    assert [item.correct for item in marked.items] == [True, False, True]
    [asked] = [n for n in deck["3"].front if isinstance(n, c.Choices)]
    assert [item.correct for item in asked.items] == [None, None, None]
    [cell] = [n for n in c.walk(deck["4"].back) if isinstance(n, c.Cell)]
    [output] = cell.outputs
    assert cell.cell == output.cell == "4#1"
    assert output.get("text/latex") == "x^{2}" and output.get("text/plain") == "x**2"
    [value] = [n for n in c.walk(deck["4"].back) if isinstance(n, c.Value)]
    assert (value.cell, value.text) == ("4#2", "42")


def test_each_output_chooses_among_the_mime_types_by_its_own_priority():
    out = c.Output("1#1", (("text/plain", "x**2"), ("text/latex", "x^{2}")))
    assert r"\[x^{2}\]" in field_html((out,))  # HTML: the formula
    assert to_plain((out,), "back") == "$$x^{2}$$"
    typst = content_to_typst((out,), lambda tex, display: f"<{tex}>", {}, Path("."), "back")
    assert typst == "<x^{2}>"
    text_only = c.Output("1#1", (("text/plain", "x**2"),))
    assert field_html((text_only,)) == '<pre class="output">x**2</pre>'
    assert out.choose(("text/plain",)) == ("text/plain", "x**2")


def test_the_printed_card_is_set_from_the_content_not_from_html():
    front = (c.Element("p", (c.Text("A "), c.Cloze(1, (c.Text("fill"),)), c.Text(" and "),
                             c.Element("strong", (c.Text("bold"),)))),
             c.CodeBlock("x = 1\n", "python"))
    math = []
    typst = content_to_typst(front + (c.Math(r"\frac{a}{b}", True),),
                             lambda tex, display: math.append((tex, display)) or "$m$",
                             {}, Path("."), "front")
    assert '#"A "#box(' in typst and '[#"[1]"]' in typst and '#strong[#"bold"]' in typst
    assert '#code-block(raw("x = 1", block: true, lang: "python"))' in typst
    assert math == [(r"\frac{a}{b}", True)]
    back = content_to_typst(front, lambda tex, display: "", {}, Path("."), "back")
    assert '#highlight(fill: rgb("#dbe8ff"))[#strong[#"fill"]]' in back


def test_raw_html_becomes_elements_closed_as_a_browser_would(tmp_path):
    ctx = ComposeContext(MediaStore(tmp_path), tmp_path, Location("q.md", 1))
    [block] = compose("H<sub>2</sub>O, <em>open and a stray </div> <script>x</script>end", ctx)
    assert isinstance(block, c.Block) and block.loc == Location("q.md", 1)
    [p] = block.children
    assert isinstance(p, c.Element) and p.tag == "p"
    tags = [n.tag for n in c.walk(p.children) if isinstance(n, c.Element)]
    assert tags == ["sub", "em"]  # no div (never opened), no script
    assert field_html((p,)) == "<p>H<sub>2</sub>O, <em>open and a stray  end</em></p>"
    typst = content_to_typst(block.children, lambda tex, display: "", {}, tmp_path, "front")
    assert typst == '#"H"#sub[#"2"]#"O, "#emph[#"open and a stray end"]'  # printed so too
