"""Spec fixtures: tests/fixtures/parse/<style>/*.md with hand-written expectations beside them
(the format is described in tests/fixtures/parse/README.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from deckgen.model import Kind, Text
from deckgen.parse import read_text

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "parse"
CASES = sorted(FIXTURES.glob("*/*.md"))
_CARD = re.compile(r"^(\d+(?:\.\d+)?)\s+(open|truefalse|choice|cloze)(?:\s+(\d+))?\s*\|(.*)\|(.*)$")


def _squash(text: str) -> str:
    return " ".join(text.split())


def expected(path: Path):
    style, cards, diags = None, [], set()
    section = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("style:"):
            style = line.split(":", 1)[1].strip()
        elif line.startswith("!"):
            severity, code, number = line[1:].split()
            diags.add((severity, code, int(number)))
        elif line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        else:
            m = _CARD.match(line)
            assert m, f"{path.name}: cannot read the line {raw!r}"
            assert section is not None, f"{path.name}: a card line before any [section] line"
            cards.append((m.group(1), m.group(2), int(m.group(3) or 0), section,
                          m.group(4).strip(), m.group(5).strip()))
    return style, cards, diags


def actual(parsed):
    out = []
    for q in parsed.questions:
        for p in q.parts:
            blocks = p.body if p.label else q.stem
            text = _squash("\n".join(b.markdown for b in blocks if isinstance(b, Text)))
            count = len(p.choices) if p.kind is Kind.CHOICE else p.blanks if \
                p.kind is Kind.CLOZE else 0
            answer = _squash(p.answer.markdown) if p.answer else "-"
            out.append((q.key(p), p.kind.value, count, q.section, text, answer))
    return out


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.stem}" for c in CASES])
def test_fixture(case: Path):
    style, cards, diags = expected(case.with_suffix(".expected"))
    parsed = read_text(case.read_text(encoding="utf-8"), case.name)
    got_diags = {(d.severity.value, d.code, d.loc.line if d.loc else 0)
                 for d in parsed.diagnostics}
    assert got_diags == diags, "\n".join(str(d) for d in parsed.diagnostics)
    if case.parent.name == "errors":
        return
    assert parsed.style == style
    got = actual(parsed)
    shown = "\n".join(f"{k} {kind} {n} [{s}] {t[:50]!r} => {a[:40]!r}"
                      for k, kind, n, s, t, a in got)
    assert [c[:4] for c in got] == [c[:4] for c in cards], shown
    for (key, _, _, _, text, answer), want in zip(got, cards):
        assert text.startswith(want[4]), f"{key}: question {text[:80]!r} does not start with " \
            f"{want[4]!r}"
        if want[5] == "-":
            assert answer == "-", f"{key}: expected no answer, got {answer[:60]!r}"
        else:
            assert answer.startswith(want[5]), f"{key}: answer {answer[:80]!r} does not " \
                f"start with {want[5]!r}"


def test_every_style_has_fixtures():
    styles = {c.parent.name for c in CASES}
    assert {"numbered", "heading", "bold", "labelled", "errors"} <= styles


def test_format_doc_examples_read_in_their_own_style():
    """Each style's example in docs/FORMAT.md is detected as that style and fully answered
    where the style carries answers."""
    doc = (FIXTURES.parents[2] / "docs" / "FORMAT.md").read_text(encoding="utf-8")
    examples = re.findall(r"^## (numbered|heading|bold|labelled)\b[^\n]*\n(?:(?!^## ).)*?"
                          r"```markdown\n(.*?)^```", doc, re.M | re.S)
    assert {style for style, _ in examples} == {"numbered", "heading", "bold", "labelled"}
    for style, md in examples:
        parsed = read_text(md, f"{style}.md")
        assert parsed.style == style, style
        assert parsed.questions and not parsed.diagnostics, style
        if style != "numbered":
            assert all(p.answer for q in parsed.questions for p in q.parts), style
