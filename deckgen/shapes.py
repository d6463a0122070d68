"""What an answer must look like for its part's kind (docs/ANSWERS.md), checked without rendering.

A multiple-choice answer starts with a ``Correct: 1, 3`` line, a fill-in-the-blank answer with
a numbered list of one fill per blank, a true/false answer with its verdict. These functions
read that shape from the answer's Markdown alone: no cell runs and nothing is rendered, so
``deckgen check`` (through :func:`check_answers`) and the card builder (``deckgen.cards``,
which renders what these functions return) always reach the same verdict, with the same
diagnostics.
"""

from __future__ import annotations

import re
from functools import lru_cache

from markdown_it.tree import SyntaxTreeNode

from deckgen.errors import Diagnostic, Severity
from deckgen.markdown import parser
from deckgen.model import Answer, Bank, Kind, Part

_CORRECT = re.compile(r"^\W*correct\W*:?\s*\**\s*((?:\d+[\s,;and&]*)+|none)\s*\**\s*\.?\s*(\n|$)",
                      re.IGNORECASE)
"""The leading ``Correct: 1, 3`` (or ``Correct: none``) line of a multiple-choice answer."""
_VERDICT = re.compile(r"^\W*(true|false)\b", re.IGNORECASE)
"""The leading ``**True.**`` or ``**False.**`` of a true/false answer."""
_FILL_NUMBER = re.compile(r"^\d+[.)]\s*")


def correct_options(part: Part, answer: Answer, key: str
                    ) -> tuple[set[int], str, list[Diagnostic]]:
    """The option numbers the answer marks correct, the rest of the answer, and problems.

    Without a ``Correct:`` line nothing is marked and the whole answer is the rest.
    """
    m = _CORRECT.match(answer.markdown)
    if not m:
        return set(), answer.markdown, [Diagnostic(
            answer.loc, f"{key} is multiple choice: start its answer with a line like "
            "'Correct: 1, 3'", "no-correct-options")]
    numbers = {int(n) for n in re.findall(r"\d+", m.group(1))}
    bad = sorted(n for n in numbers if not 1 <= n <= len(part.choices))
    diags = []
    if bad:
        diags.append(Diagnostic(
            answer.loc, f"{key} has {len(part.choices)} options; 'Correct' names "
            f"{', '.join(map(str, bad))}", "bad-correct-options"))
    return numbers, answer.markdown[m.end():], diags


def cloze_fill_spans(part: Part, answer: Answer, key: str
                     ) -> tuple[list[str], str, list[Diagnostic]]:
    """The fills (Markdown, one per item of the answer's leading numbered list, whitespace
    collapsed, not rendered), the rest of the answer, and problems.

    A fill is counted from the list alone: one that is an inline ``{python}`` expression
    counts as one fill whatever it will compute.
    """
    spans = _leading_list(answer.markdown)
    if spans is None:
        return [], answer.markdown, [Diagnostic(
            answer.loc, f"{key} has {part.blanks} blank(s): start its answer with a numbered "
            "list of the fills, one per blank", "no-cloze-fills")]
    items, end = spans
    lines = answer.markdown.split("\n")
    fills = []
    for start, stop in items:
        text = "\n".join(lines[start:stop]).strip()
        fills.append(" ".join(_FILL_NUMBER.sub("", text).split()))
    before = "\n".join(lines[:items[0][0]]).strip("\n") if items else ""
    diags = []
    if len(fills) != part.blanks:
        diags.append(Diagnostic(
            answer.loc, f"{key} has {part.blanks} blank(s) but its answer lists "
            f"{len(fills)} fill(s)", "cloze-fill-count"))
    after = "\n".join(lines[end:]).strip("\n")
    return fills, "\n\n".join(t for t in (before, after) if t), diags


@lru_cache(maxsize=4096)
def _leading_list(markdown: str) -> tuple[tuple[tuple[int, int], ...], int] | None:
    """The line spans of the items of the answer's leading numbered list, and the line where
    it ends; None when the answer does not start with one. Cached: check and the cards both
    ask, once each per build."""
    from deckgen.answers import CELL_INFO

    tree = SyntaxTreeNode(parser().parse(markdown))
    # cells that compute the fills may come first (their results are put into the fills)
    rest = [n for n in tree.children if not (n.type == "fence" and CELL_INFO.match(
        (n.info or "").strip()))]
    first = rest[0] if rest else None
    if first is None or first.type != "ordered_list" or not first.map:
        return None
    items = []
    for item in first.children:
        assert item.map is not None  # markdown-it maps every list item
        items.append((item.map[0], item.map[1]))
    return tuple(items), first.map[1]


def verdict(answer: Answer) -> str | None:
    """``'true'`` or ``'false'`` when the answer starts with its verdict, else None."""
    m = _VERDICT.match(answer.markdown)
    return m.group(1).lower() if m else None


def truefalse_verdict(part: Part, answer: Answer, key: str
                      ) -> tuple[str | None, list[Diagnostic]]:
    """The verdict of a true/false answer, and a warning when it has none."""
    found = verdict(answer)
    if found is not None:
        return found, []
    return None, [Diagnostic(
        answer.loc, f"{key} is true/false: start its answer with **True.** or **False.**",
        "no-verdict", Severity.WARNING)]


def check_part(part: Part, key: str) -> list[Diagnostic]:
    """Problems with the shape of one part's answer (none for open parts or no answer)."""
    answer = part.answer
    if answer is None:
        return []
    if part.kind is Kind.CHOICE:
        return correct_options(part, answer, key)[2]
    if part.kind is Kind.CLOZE:
        return cloze_fill_spans(part, answer, key)[2]
    if part.kind is Kind.TRUEFALSE:
        return truefalse_verdict(part, answer, key)[1]
    return []


def check_answers(bank: Bank) -> list[Diagnostic]:
    """Shape problems of every answered part of every question, in bank order."""
    return [d for q in bank.questions for part in q.parts for d in check_part(part, q.key(part))]


__all__ = ["correct_options", "cloze_fill_spans", "verdict", "truefalse_verdict", "check_part",
           "check_answers"]
