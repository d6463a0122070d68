"""Property-based tests: generated and mutated Markdown never crashes the parser or the build
(execution off), and every problem it reports carries a location."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SEED, TINY, build, write_bank
from deckgen.errors import BuildFailed
from deckgen.parse import STYLES, parse_text

# a bounded budget for CI; raise it for a longer hunt: DECKGEN_FUZZ_BUILDS=2000 pytest ...
BUILD_EXAMPLES = int(os.environ.get("DECKGEN_FUZZ_BUILDS", "100"))
SEED_LINES = SEED.read_text().splitlines()
TINY_LINES = (TINY / "questions.md").read_text().splitlines()
PIECES = ["1. ", "    1. ", "2. ", "---", "## S", "### Q: ", "$", "$$", "`", "```", "```{python}",
          "[...]", "**True or False:**", "<table>", "</table>", "<img src=\"img/mlp-1.png\">",
          "<details><summary>A</summary>", "</details>", "\\begin{cases}", "}", "{", "\t", "\r\n",
          "<script>", "![x](../x.png)", "<!-- id: a -->", "Mark all the correct choices:", "\ufeff",
          "é", "∑", "    ", "\n", "\n\n", " \t", "\t1. ", "  \t  2. ", "**What is X?**", "Q: ",
          "A: ", "**Q1:** ", "Answer:", "### 12. ", "#### 1) ", "## Question 3: ", "?",
          "[Back to top](#top)", "1. [Intro](#intro)", "[![b](https://img.shields.io/x)](y)"]

fragments = st.lists(st.sampled_from(PIECES) | st.text(max_size=12), max_size=40).map("".join)


@st.composite
def mutated(draw) -> str:
    source = draw(st.sampled_from([SEED_LINES, TINY_LINES]))
    start = draw(st.integers(0, max(0, len(source) - 1)))
    lines = list(source[start:start + draw(st.integers(1, 120))])
    for _ in range(draw(st.integers(0, 8))):
        op = draw(st.sampled_from(["delete", "duplicate", "insert", "indent", "swap"]))
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "insert":
            lines.insert(i, draw(fragments))
        elif op == "indent":
            lines[i] = "    " + lines[i]
        else:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


markdown = fragments | mutated()


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markdown, st.sampled_from([None, *STYLES]))
def test_parser_never_crashes_and_locates_every_problem(text, style):
    questions, _, diagnostics = parse_text(text, "fuzz.md", style)
    for d in diagnostics:
        assert d.loc is not None and d.loc.path == "fuzz.md" and d.loc.line >= 1
    for q in questions:
        assert q.parts and q.loc.line >= 1


@settings(max_examples=BUILD_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markdown, st.sampled_from(["", "## 1\nAn answer with $x$ and `{python} 1 + 1`.\n",
                                  "## 1.1\n1. fill\n\n## 2\n**True.** Yes.\n"]))
def test_build_without_execution_never_crashes(text, answers):
    with tempfile.TemporaryDirectory() as tmp:
        bank = write_bank(Path(tmp) / "bank", text, answers)
        (bank / "img").mkdir()
        (bank / "img" / "mlp-1.png").write_bytes((TINY / "img" / "mlp-1.png").read_bytes())
        try:
            result = build(bank, Path(tmp) / "out", execute=False)
        except BuildFailed as exc:
            problems = exc.diagnostics
        else:
            problems = result.diagnostics
            assert (Path(tmp) / "out" / "t.apkg").is_file()
        for d in problems:
            assert d.loc is not None, d
