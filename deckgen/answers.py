"""Answers files -> answers attached to the bank's parts (docs/ANSWERS.md describes the format)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from markdown_it.tree import SyntaxTreeNode

from deckgen.errors import Diagnostic, Location, Severity
from deckgen.lint import lint_tokens
from deckgen.markdown import parser
from deckgen.model import Answer, Bank, Cell
from deckgen.parse import limits
from deckgen.parse.repairs import normalize

_KEY = re.compile(r"^Q?(\d+)(?:\.(\d+))?$", re.IGNORECASE)
_OPTION = re.compile(r"^#\|\s*([\w-]+)\s*:\s*(.*?)\s*$")
INLINE_CELL = re.compile(r"^\{python\}\s+(.+)$", re.DOTALL)
CELL_INFO = re.compile(r"^\{python\}(?:\s.*)?$", re.DOTALL)
"""A fence that is a cell: ``{python}``, and anything after a space (``{python} first``) is
ignored (options go in ``#|`` lines). The one rule: scanning and rendering both use it."""
# `{python} expr` inside $...$: the value (e.g. sympy's LaTeX) becomes part of the formula
IN_MATH = re.compile(r"`\{python\}\s+([^`]+?)`")


def split_cell(code: str) -> tuple[str, dict[str, str]]:
    """Separate leading ``#| key: value`` option lines from a cell's code."""
    options: dict[str, str] = {}
    lines = code.split("\n")
    i = 0
    while i < len(lines):
        m = _OPTION.match(lines[i].strip())
        if not m:
            break
        value = m.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        options[m.group(1).lower()] = value
        i += 1
    return "\n".join(lines[i:]), options


def scan(markdown: str, loc: Location, line_of: Callable[[int], int] | None = None
         ) -> tuple[Cell, ...]:
    """Find the ``{python}`` cells and inline expressions of an answer, in document order.

    ``line_of`` maps a 0-based line of ``markdown`` to its line in the file.
    """
    if "{python}" not in markdown:
        return ()  # most answers have no code: skip parsing them here
    line_of = line_of or (lambda i: loc.line + i)
    tree = SyntaxTreeNode(parser().parse(markdown))
    cells: list[Cell] = []
    for node in tree.walk():
        start = node.map[0] if node.type != "root" and node.map else 0
        if node.type == "fence" and CELL_INFO.match((node.info or "").strip()):
            code, options = split_cell(node.content or "")
            fence = Location(loc.path, line_of(start))
            cells.append(Cell(code, options, fence, line_of(start + 1 + len(options))))
        elif node.type in ("math_block", "math_block_label"):
            cells.extend(_inline_cells(IN_MATH.findall(node.content or ""), loc, line_of(start)))
        elif node.type == "inline":
            for child in node.children:
                if child.type == "code_inline":
                    m = INLINE_CELL.match(child.content)
                    found = [m.group(1)] if m else []
                elif child.type in ("math_inline", "math_inline_double"):
                    found = IN_MATH.findall(child.content)
                else:
                    continue
                cells.extend(_inline_cells(found, loc, line_of(start)))
    return tuple(cells)


def _inline_cells(expressions: list[str], loc: Location, line: int) -> list[Cell]:
    return [Cell(e.strip(), {}, Location(loc.path, line), line, inline=True)
            for e in expressions]


def make_answer(markdown: str, loc: Location,
                line_of: Callable[[int], int] | None = None) -> Answer:
    return Answer(markdown, loc, scan(markdown, loc, line_of))


def read_answers(path: Path, display: str) -> tuple[dict[str, Answer], list[Diagnostic]]:
    """Read one answers file into ``key -> Answer`` (``setup`` included)."""
    try:
        text = limits.read_bank_file(path).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return {}, [Diagnostic(Location(display, 1), f"not valid UTF-8 ({exc.reason})",
                               "encoding")]
    except OSError as exc:
        return {}, [Diagnostic(Location(display, 1), f"cannot read the answers file: "
                               f"{exc.strerror or exc}", "unreadable")]
    found, problems = _parse_answers(text, display)
    return dict(found), list(problems)


@functools.lru_cache(maxsize=64)
def _parse_answers(text: str, display: str) -> tuple[dict[str, Answer], list[Diagnostic]]:
    """An answers file's text -> its answers, remembered for the same text (``deckgen watch``
    rebuilds after every save; the bank's other answers files have not changed). Callers get
    copies: the answers are frozen records, the containers are not."""
    diags: list[Diagnostic] = []
    norm = normalize(text)
    diags.extend(limits.problems(norm, display))
    if any(d.severity is Severity.ERROR for d in diags):
        return {}, diags
    lines = norm.text.split("\n")
    tokens = parser().parse(norm.text)
    diags.extend(lint_tokens(tokens, display, norm.line, lines))
    heads = [(tok, tokens[i + 1].content.strip()) for i, tok in enumerate(tokens)
             if tok.type == "heading_open" and tok.tag == "h2" and tok.level == 0 and tok.map]
    out: dict[str, Answer] = {}
    spans = [(tok.map[0], tok.map[1]) for tok, _ in heads if tok.map]
    for i, (_, title) in enumerate(heads):
        head_start, head_end = spans[i]
        loc = Location(display, norm.line(head_start))
        m = _KEY.match(title)
        key = "setup" if title.lower() == "setup" else (
            f"{m.group(1)}.{m.group(2)}" if m and m.group(2) else m.group(1) if m else None)
        if key is None:
            diags.append(Diagnostic(loc, f"answer heading '## {title}' is not a key like "
                                    "'## 34' or '## 34.2'", "bad-answer-key"))
            continue
        end = spans[i + 1][0] if i + 1 < len(spans) else len(lines)
        first = next((j for j in range(head_end, end) if lines[j].strip()), head_end)
        body = "\n".join(lines[first:end]).rstrip()
        if key in out:
            diags.append(Diagnostic(loc, f"answer {key} is given twice (first at "
                                    f"{out[key].loc})", "duplicate-answer"))
            continue
        out[key] = make_answer(body, loc, _offset(norm, first))
    return out, diags


def _offset(norm, first: int) -> Callable[[int], int]:
    """Map a line of an answer's body to its line in the answers file."""
    def line_of(j: int) -> int:
        return norm.line(first + j)
    return line_of


def attach(bank: Bank, answers: dict[str, Answer]) -> tuple[Bank, list[Diagnostic]]:
    """Attach answers by their numbers alone, as binding does for a bank that has no lock
    file yet (``setup`` included); unknown keys are errors, inline answers clash."""
    from deckgen.binding import bind
    from deckgen.identity import LOCK_NAME, Lock, assign

    setup = answers.get("setup")
    fresh = assign([bank], Lock(Path(bank.root) / LOCK_NAME))  # in memory only
    bound = bind(bank, answers, fresh, Path(bank.path).name)
    return replace(scan_inline(bound.bank), setup=setup.cells if setup else ()), \
        bound.diagnostics


def scan_inline(bank: Bank) -> Bank:
    """Answers written in the question file (``<details>``, or under a heading) get their
    cells found, as answers files' answers do."""
    questions = []
    for q in bank.questions:
        parts = tuple(replace(p, answer=make_answer(p.answer.markdown, p.answer.loc))
                      if p.answer is not None and not p.answer.cells else p for p in q.parts)
        questions.append(replace(q, parts=parts))
    return replace(bank, questions=tuple(questions))


def unanswered(bank: Bank) -> list[Diagnostic]:
    return [Diagnostic(part.loc, f"{q.key(part)} has no answer", "missing-answer",
                       Severity.WARNING)
            for q in bank.questions for part in q.parts if part.answer is None]
