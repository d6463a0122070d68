"""Question file -> questions: decoding, repairs, tokens, then one reader per question style.

A file is read in one of four styles (docs/FORMAT.md): ``numbered`` (top-level ``N.`` items, the
default bank's), ``heading`` (``### Q: ...``, ``### 12. ...``, headings ending in ``?``),
``bold`` (a wholly bold question paragraph, then its answer) and ``labelled`` (``Q:``/``A:``
lines). The style is detected per file (the one that finds the most questions) unless
``deckgen.toml`` names it. A file that yields no question at all is an error, never an empty
deck.
"""

from __future__ import annotations

import functools

from dataclasses import dataclass, field
from pathlib import Path

from markdown_it.tree import SyntaxTreeNode

from deckgen.errors import Diagnostic, Location, Severity
from deckgen.lint import lint_tokens
from deckgen.markdown import parser
from deckgen.model import Bank, Question
from deckgen.parse.bold import BoldReader
from deckgen.parse.heading import HeadingReader, heading_question
from deckgen.parse.kinds import BLANK
from deckgen.parse.labelled import LabelledReader
from deckgen.parse.labels import A_LINE, Q_LINE, question_like
from deckgen.parse.limits import problems, read_bank_file
from deckgen.parse.numbered import NumberedReader
from deckgen.parse.reader import QuestionDraft, Reader, inline_text
from deckgen.parse.repairs import normalize

READERS: dict[str, type[Reader]] = {"numbered": NumberedReader, "heading": HeadingReader,
                                    "bold": BoldReader, "labelled": LabelledReader}
"""Every style, in the order that breaks ties when detecting."""
STYLES = tuple(READERS)


@dataclass
class ParsedFile:
    """One question file as read."""

    questions: list[Question]
    sections: list[str]
    diagnostics: list[Diagnostic]
    style: str
    """The style it was read in."""
    detected: bool = True
    """False when ``deckgen.toml`` named the style."""
    signals: dict[str, int] = field(default_factory=dict)
    """How many questions each style would see (what detection went by)."""


def signals(tree: SyntaxTreeNode, probe: BoldReader) -> dict[str, int]:
    """Per style, a quick count of the questions it would find."""
    nodes = probe.content_nodes(tree)
    numbered = heading = 0
    under_question = False  # lists under a question heading are its parts, not questions
    for n in nodes:
        if n.type == "heading":
            under_question = heading_question(inline_text(n)) is not None
            heading += under_question
        elif n.type == "ordered_list" and not under_question:
            # an item's first line tells (a quick count: detection needs no more)
            numbered += sum(1 for item in n.children if item.map and question_like(
                probe.lines[item.map[0]][probe.item_col(item, 0):]))
    bold = sum(1 for n in nodes if probe.question_at(n) is not None)
    fenced = {i for n in tree.walk() if n.type in ("fence", "code_block") and n.map
              for i in range(*n.map)}
    free = [line for i, line in enumerate(probe.lines) if i not in fenced]
    labelled = max(sum(1 for line in free if Q_LINE.match(line)),
                   sum(1 for line in free if A_LINE.match(line)))
    return {"numbered": numbered, "heading": heading, "bold": bold, "labelled": labelled}


def detect(counts: dict[str, int]) -> str:
    """The style that sees the most questions; ties go to the earlier style in READERS."""
    return max(STYLES, key=lambda s: (counts[s], -STYLES.index(s)))


def read_text(text: str, path: str, style: str | None = None) -> ParsedFile:
    """Parse a question file's text in ``style`` (None or 'auto': detect it)."""
    norm = normalize(text)
    limits = problems(norm, path)
    if any(d.severity is Severity.ERROR for d in limits):
        return ParsedFile([], [], limits, style or "numbered", style not in READERS, {})
    tokens = parser().parse(norm.text)
    tree = SyntaxTreeNode(tokens)
    probe = BoldReader(path, norm)
    counts = signals(tree, probe)
    chosen = style if style in READERS else detect(counts)
    reader = READERS[chosen](path, norm)
    reader.nodes = probe.nodes  # found once, for detecting and for reading
    reader.diagnostics.extend(limits)
    reader.diagnostics.extend(lint_tokens(tokens, path, norm.line, reader.lines))
    drafts, sections = reader.read(tree)
    _renumber_restarts(drafts)
    questions = []
    seen: dict[int, Location] = {}
    for draft in drafts:
        q = reader.question(draft)
        if q is None:
            continue
        if q.number in seen:
            reader.diagnostics.append(Diagnostic(
                q.loc, f"question number {q.number} is used twice (first at {seen[q.number]})",
                "duplicate-question"))
            continue
        seen[q.number] = q.loc
        questions.append(q)
    if not questions and not any(d.code == "duplicate-question" for d in reader.diagnostics):
        reader.diagnostics.append(_no_questions(path, chosen, counts, style in READERS))
    return ParsedFile(questions, sections, reader.diagnostics, chosen, style not in READERS,
                      counts)


def _renumber_restarts(drafts: list[QuestionDraft]) -> None:
    """Numbering that starts again in each section (``1.`` under every heading) becomes one
    sequence in file order, so every question keeps a key of its own. Numbers used twice
    within one section stay as written (and are reported as duplicates)."""
    seen: set[int] = set()
    per_section: dict[str, set[int]] = {}
    restarts = False
    for q in drafts:
        mine = per_section.setdefault(q.section, set())
        if q.number in mine:
            return
        restarts = restarts or q.number in seen
        mine.add(q.number)
        seen.add(q.number)
    if restarts:
        for number, q in enumerate(drafts, start=1):
            q.number = number


def _no_questions(path: str, style: str, counts: dict[str, int], forced: bool) -> Diagnostic:
    seen = {"numbered": "numbered items that ask something", "heading": "question headings",
            "bold": "bold question lines", "labelled": "'Q:' lines"}
    found = ", ".join(f"{n} {seen[s]}" for s, n in counts.items()) or "no text"
    how = f"read as the '{style}' style " + ("(set in deckgen.toml)" if forced else "(detected)")
    return Diagnostic(Location(path, 1), f"no questions found in {path}: it has {found}; {how}. "
                      "See docs/FORMAT.md for the question styles deckgen reads, or set "
                      "'style' in deckgen.toml", "no-questions")


def parse_text(text: str, path: str, style: str | None = None
               ) -> tuple[list[Question], list[str], list[Diagnostic]]:
    """Parse a question file's text; returns questions, section titles and diagnostics."""
    parsed = read_text(text, path, style)
    return parsed.questions, parsed.sections, parsed.diagnostics


def decode(path: Path, shown: str) -> tuple[str | None, list[Diagnostic]]:
    """A file's text (UTF-8, BOM allowed); unreadable or undecodable files are diagnostics."""
    try:
        raw = read_bank_file(path)
    except OSError as exc:
        return None, [Diagnostic(Location(shown, 1), f"cannot read the question file: "
                                 f"{exc.strerror}", "unreadable")]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        return None, [Diagnostic(Location(shown, line), "the file is not valid UTF-8 (save it "
                                 "as UTF-8)", "encoding")]


def read_bank(path: Path, display: str | None = None, style: str | None = None
              ) -> tuple[Bank, list[Diagnostic]]:
    """Read and parse a question file; undecodable files become a diagnostic, not a crash."""
    shown = display or str(path)
    text, problems = decode(path, shown)
    if text is None:
        return Bank(shown, str(path.parent), ()), problems
    parsed = _parsed(text, shown, style)
    return Bank(shown, str(path.parent), tuple(parsed.questions), sections=tuple(parsed.sections),
                style=parsed.style), list(parsed.diagnostics)


@functools.lru_cache(maxsize=16)
def _parsed(text: str, path: str, style: str | None) -> ParsedFile:
    """read_text, remembered for the same text: ``deckgen watch`` rebuilds after every save,
    and a bank's other files have not changed (what it returns is frozen records)."""
    return read_text(text, path, style)


__all__ = ["read_bank", "read_text", "parse_text", "ParsedFile", "BLANK", "STYLES", "READERS"]
