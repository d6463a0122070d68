"""Question file -> Bank: the one module that turns markdown-it tokens into the model.

Reading rules (docs/FORMAT.md has the user-facing version):

- ``##``/``###`` headings start sections; any heading or ``---`` rule ends a question.
- In each block between such boundaries, the first top-level numbered list holds the questions
  (each item one question, its number as written). Everything after it in the block belongs to
  the last question of that list.
- Inside a question, a numbered list is its **parts** when most items ask something (a ``?``,
  a ``[...]`` blank, True/False, or a prompt verb such as *explain* or *compute*), its
  **options** when the text before it asks to choose or mark, and otherwise plain content
  (statements, steps, data). Content after a parts list belongs to the last part.
- ``### Q: ...`` headings are questions too, and a ``<details>`` block right after a question
  or part is its answer.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path

from markdown_it.tree import SyntaxTreeNode

from deckgen.errors import Diagnostic, Location, Severity
from deckgen.lint import lint_tokens
from deckgen.markdown import parser
from deckgen.model import Answer, Bank, Block, Choice, CodeBlock, Figure, Kind, Part, Question, Text
from deckgen.normalize import Normalized, normalize

BLANK = re.compile(r"\[(?:\.\.\.|…)\]")
_TRUE_FALSE = re.compile(r"^\W*true\s+or\s+false\b", re.IGNORECASE)
_CHOICE_WORDING = re.compile(
    r"\b(mark\s+(all|the\s+correct)|choose|select|which\s+of\s+the\s+following|following\s+options"
    r"|correct\s+(choice|option)|which\s+ones)\b", re.IGNORECASE)
_PROMPT = re.compile(
    r"\b(what|which|why|how|explain|describe|name|define|compute|calculate|find|write|implement"
    r"|plot|derive|complete|verify|confirm|identify|determine|elaborate|prove|print|evaluate"
    r"|state|provide|help|choose|mark|compare|repeat|discuss|show|list)\b", re.IGNORECASE)
_Q_HEADING = re.compile(r"^Q(\d+)?\s*[:.)]\s*(.*)$", re.IGNORECASE)
_MARKER_AT = re.compile(r"\s*\d{1,9}[.)]( {1,4}(?! )|\s*$)")
_DETAILS_OPEN = re.compile(r"^\s*<details\b", re.IGNORECASE)
_DETAILS_CLOSE = re.compile(r"</details\s*>", re.IGNORECASE)
_SUMMARY = re.compile(r"<summary\b.*?</summary\s*>", re.IGNORECASE | re.DOTALL)
_DETAILS_TAG = re.compile(r"</?details\b[^>]*>", re.IGNORECASE)
ID_COMMENT = re.compile(r"<!--\s*id\s*:\s*([A-Za-z0-9][\w.-]*)\s*-->")


@dataclass
class _Item:
    """A numbered item being read: its column and the nodes that make it up."""

    node: SyntaxTreeNode
    col: int  # column where the item's content starts


@dataclass
class _PartDraft:
    item: _Item | None
    extra: list[tuple[SyntaxTreeNode, int]] = field(default_factory=list)
    answer: Answer | None = None


@dataclass
class _QuestionDraft:
    number: int
    section: str
    loc: Location
    stem: list[tuple[SyntaxTreeNode, int]] = field(default_factory=list)
    head: str = ""  # stem text from a "### Q:" heading
    parts: list[_PartDraft] = field(default_factory=list)
    choices: list[_Item] = field(default_factory=list)
    answer: Answer | None = None


class _Reader:
    """Reads one file's syntax tree; collects diagnostics instead of raising."""

    def __init__(self, path: str, norm: Normalized):
        self.path = path
        self.norm = norm
        self.lines = norm.text.split("\n")
        self.diagnostics: list[Diagnostic] = []

    # -- locations and source slices ------------------------------------------------------

    def loc(self, node: SyntaxTreeNode | int) -> Location:
        index = node if isinstance(node, int) else (node.map[0] if node.map else 0)
        return Location(self.path, self.norm.line(index))

    def source(self, node: SyntaxTreeNode, col: int) -> str:
        """The node's Markdown, with ``col`` columns of list indentation (or a marker) removed."""
        assert node.map is not None
        out = []
        for i in range(node.map[0], node.map[1]):
            line = self.lines[i]
            if i == node.map[0] and len(line) > col and line[:col].strip():
                out.append(line[col:])  # the line still holds list markers before ``col``
            else:
                strip = min(col, len(line) - len(line.lstrip(" ")))
                out.append(line[strip:])
        return "\n".join(out).strip("\n")

    def item_col(self, item: SyntaxTreeNode, parent_col: int) -> int:
        """Column where a list item's content starts (after its ``N.`` marker)."""
        assert item.map is not None
        line = self.lines[item.map[0]]
        m = _MARKER_AT.match(line, parent_col)
        return m.end() if m else parent_col + len(item.info or "") + 2

    # -- the file -------------------------------------------------------------------------

    def read(self, root: SyntaxTreeNode) -> tuple[list[_QuestionDraft], list[str]]:
        questions: list[_QuestionDraft] = []
        sections: list[str] = []
        section = ""
        block: list[SyntaxTreeNode] = []
        q_heading: _QuestionDraft | None = None
        after_rule = False  # the block began at a --- rule, not at a heading

        def flush() -> None:
            nonlocal q_heading
            if q_heading is not None:
                self._fill_heading_question(q_heading, block)
                questions.append(q_heading)
                q_heading = None
            else:
                questions.extend(self._read_block(block, section, after_rule))
            block.clear()

        numbers = iter(range(1, 1 << 30))
        for node in root.children:
            if node.type == "heading":
                flush()
                after_rule = False
                title = _inline_text(node)
                m = _Q_HEADING.match(title)
                if m:
                    number = int(m.group(1)) if m.group(1) else None
                    q_heading = _QuestionDraft(number or -1, section, self.loc(node),
                                               head=m.group(2))
                    if number is None:
                        q_heading.number = -next(numbers)  # numbered after the file is read
                elif node.tag in ("h2", "h3"):
                    section = title
            elif node.type == "hr":
                flush()
                after_rule = True
            elif node.type != "front_matter":
                block.append(node)
        flush()
        _number_heading_questions(questions)
        for q in questions:
            if q.section and q.section not in sections:
                sections.append(q.section)
        return questions, sections

    def _fill_heading_question(self, q: _QuestionDraft, nodes: list[SyntaxTreeNode]) -> None:
        for node, col in self._with_details(nodes, 0, q):
            q.stem.append((node, col))

    def _read_block(self, nodes: list[SyntaxTreeNode], section: str,
                    after_rule: bool = False) -> list[_QuestionDraft]:
        first = next((i for i, n in enumerate(nodes) if n.type == "ordered_list"), None)
        # Text after a heading and before the first question introduces the section; between
        # two --- rules it belongs to no question, which is worth a word to the author.
        stray = nodes[:first] if first is not None else nodes
        for node in stray:
            details = node.type == "html_block" and _DETAILS_OPEN.match(node.content or "")
            comment = node.type == "html_block" and (node.content or "").lstrip().startswith(
                "<!--")
            if details or (after_rule and not comment):
                what = "an answer (<details>)" if details else "this text"
                self.diagnostics.append(Diagnostic(
                    self.loc(node), f"{what} belongs to no question: no numbered question "
                    "precedes it since the last --- or heading", "unattributed",
                    Severity.WARNING))
                break
        if first is None:
            return []  # a section's introduction or table of contents
        out: list[_QuestionDraft] = []
        qlist = nodes[first]
        start = int(qlist.attrs.get("start", 1))
        rest: list[SyntaxTreeNode | list[SyntaxTreeNode]] = []
        for offset, item in enumerate(qlist.children):
            number = int(item.info) if (item.info or "").isdigit() else start + offset
            if out and (rest or number <= out[-1].number):
                # "35. ...\n\n1. ..." is one CommonMark list; from the first item that does
                # not count up, the items are the last question's parts or options.
                rest.append(item)
                continue
            q = _QuestionDraft(number, section, self.loc(item))
            self._read_question(q, [(c, self.item_col(item, 0)) for c in item.children])
            out.append(q)
        following: list = ([rest] if rest else []) + list(nodes[first + 1:])
        if out:
            self._read_question(out[-1], [(n, 0) for n in following])
        return out

    def _read_question(self, q: _QuestionDraft, nodes: list[tuple]) -> None:
        """Sort a question's nodes into stem, parts (with trailing content) and options.

        An entry is a node, or a plain list of list items (the tail of the question's list).
        """
        for node, col in self._with_details([n for n, _ in nodes], nodes[0][1] if nodes else 0, q):
            if isinstance(node, list) or node.type == "ordered_list":
                children = node if isinstance(node, list) else node.children
                items = [_Item(i, self.item_col(i, col)) for i in children]
                context = self._text(q.parts[-1].item.node.children[:1], q.parts[-1].item.col) \
                    if q.parts and q.parts[-1].item else self._stem_text(q)
                if not q.parts and _CHOICE_WORDING.search(context) and not q.choices:
                    q.choices = items
                    continue
                if self._is_parts_list(items):
                    q.parts.extend(_PartDraft(item) for item in items)
                    continue
                if isinstance(node, list):  # content items (statements, steps, data)
                    for item in items:
                        self._append(q, (item.node, 0))
                    continue
            self._append(q, (node, col))

    @staticmethod
    def _append(q: _QuestionDraft, entry: tuple[SyntaxTreeNode, int]) -> None:
        if q.parts:
            q.parts[-1].extra.append(entry)
        else:
            q.stem.append(entry)

    def _with_details(self, nodes: list[SyntaxTreeNode], col: int, q: _QuestionDraft):
        """Yield nodes with columns; ``<details>`` blocks become answers instead."""
        i = 0
        while i < len(nodes):
            node = nodes[i]
            if not isinstance(node, list) and node.type == "html_block" and \
                    _DETAILS_OPEN.match(node.content or ""):
                j = i
                while j + 1 < len(nodes) and not _closes_details(nodes[j]):
                    j += 1
                last = nodes[j]
                if isinstance(last, list) or not _closes_details(last):
                    j, last = i, node  # never closed: take the opening block alone
                    self.diagnostics.append(Diagnostic(
                        self.loc(node), "<details> is never closed with </details>; only its "
                        "first block is taken as the answer", "unclosed-details",
                        Severity.WARNING))
                start, end = node.map or (0, 0)
                end = last.map[1] if last.map else end
                raw = "\n".join(self.lines[start:end])
                body = _DETAILS_TAG.sub("", _SUMMARY.sub("", raw, count=1)).strip("\n")
                answer = Answer(_dedent(body, col), self.loc(node))
                target = q.parts[-1] if q.parts else q
                if target.answer is not None:
                    self.diagnostics.append(Diagnostic(
                        self.loc(node), "a second <details> answer for the same question",
                        "duplicate-answer"))
                target.answer = answer
                i = j + 1
                continue
            yield node, col
            i += 1

    def _is_parts_list(self, items: list[_Item]) -> bool:
        asking = sum(1 for item in items if _asks(self._text(item.node.children, item.col)))
        return asking * 2 >= len(items) and asking > 0

    def _text(self, nodes, col: int) -> str:
        return "\n".join(self.source(n, col) for n in nodes if n.map)

    def _stem_text(self, q: _QuestionDraft) -> str:
        return q.head + "\n" + "\n".join(self.source(n, c) for n, c in q.stem if n.map)

    # -- drafts -> model ------------------------------------------------------------------

    def blocks(self, nodes: list[tuple[SyntaxTreeNode, int]]) -> list[Block]:
        out: list[Block] = []
        for node, col in nodes:
            if not node.map:
                continue
            if node.type == "html_block":
                figures = _figures(node.content or "", self.loc(node))
                if figures:
                    out.extend(figures)
                    continue
            text = Text(self.source(node, col), self.loc(node))
            if out and isinstance(out[-1], Text) and node.type not in ("fence", "code_block") \
                    and not out[-1].markdown.rstrip().endswith("```"):
                # keep neighbouring Markdown together so lists and paragraphs render as one
                out[-1] = Text(out[-1].markdown + "\n\n" + text.markdown, out[-1].loc)
            else:
                out.append(text)
        return out

    def code_blocks(self, nodes: list[tuple[SyntaxTreeNode, int]]) -> list[CodeBlock]:
        out = []
        for top, _ in nodes:
            for node in top.walk():
                if node.type in ("fence", "code_block"):
                    out.append(CodeBlock((node.info or "").strip(), node.content or "",
                                         self.loc(node)))
        return out

    def question(self, q: _QuestionDraft) -> Question | None:
        stem_nodes = list(q.stem)
        parts: list[Part] = []
        all_nodes = list(stem_nodes)
        drafts = q.parts
        if len(drafts) == 1 and not q.choices:
            # a lone sub-item is the question itself, not a part of it
            only = drafts[0]
            assert only.item is not None
            stem_nodes += [(c, only.item.col) for c in only.item.node.children] + only.extra
            all_nodes = list(stem_nodes)
            if only.answer and q.answer is None:
                q.answer = only.answer
            drafts = []
        stem = self.blocks(stem_nodes)
        if q.head:
            stem.insert(0, Text(q.head, q.loc))
        if not drafts:
            text = "\n".join(b.markdown for b in stem if isinstance(b, Text))
            choices = self._choices(q.choices)
            if not stem and not choices:
                self.diagnostics.append(Diagnostic(q.loc, f"question {q.number} is empty",
                                                   "empty-question"))
                return None
            parts.append(Part("", (), _kind(text, choices), choices, _blanks(text), q.loc,
                              q.answer))
            body_stem = stem
        else:
            body_stem = stem
            for number, draft in enumerate(drafts, start=1):
                assert draft.item is not None
                item = draft.item
                own: list[tuple[SyntaxTreeNode, int]] = []
                choices_items: list[_Item] = []
                for child in item.node.children:
                    if child.type == "ordered_list" and not choices_items and \
                            _CHOICE_WORDING.search(self._text([c for c, _ in own], item.col)):
                        choices_items = [_Item(i, self.item_col(i, item.col))
                                         for i in child.children]
                    else:
                        own.append((child, item.col))
                own += draft.extra
                all_nodes += own
                body = self.blocks(own)
                text = "\n".join(b.markdown for b in body if isinstance(b, Text))
                choices = self._choices(choices_items)
                parts.append(Part(str(number), tuple(body), _kind(text, choices), choices,
                                  _blanks(text), self.loc(item.node), draft.answer))
            if q.answer is not None:
                self.diagnostics.append(Diagnostic(
                    q.answer.loc, f"question {q.number} has parts; put each <details> answer "
                    "after its part", "misplaced-answer"))
        qid = _explicit_id(body_stem)
        parts = [replace(p, id=_explicit_id(p.body) or
                         (f"{qid}.{p.label}" if qid and p.label else qid)) for p in parts]
        return Question(q.number, q.section, tuple(body_stem), tuple(parts),
                        tuple(self.code_blocks(all_nodes)), q.loc)

    def _choices(self, items: list[_Item]) -> tuple[Choice, ...]:
        return tuple(Choice(n, self._text(i.node.children, i.col), self.loc(i.node))
                     for n, i in enumerate(items, start=1))


def _closes_details(node) -> bool:
    return not isinstance(node, list) and node.type == "html_block" and \
        bool(_DETAILS_CLOSE.search(node.content or ""))


def _explicit_id(blocks) -> str | None:
    for block in blocks:
        if isinstance(block, Text):
            m = ID_COMMENT.search(block.markdown)
            if m:
                return m.group(1)
    return None


def _asks(text: str) -> bool:
    return bool("?" in text or BLANK.search(text) or _TRUE_FALSE.match(text)
                or _PROMPT.search(text))


def _kind(text: str, choices: tuple[Choice, ...]) -> Kind:
    if choices:
        return Kind.CHOICE
    if _TRUE_FALSE.match(text):
        return Kind.TRUEFALSE
    if BLANK.search(text):
        return Kind.CLOZE
    return Kind.OPEN


def _blanks(text: str) -> int:
    return len(BLANK.findall(text))


def _dedent(text: str, col: int) -> str:
    lines = text.split("\n")
    return "\n".join(line[min(col, len(line) - len(line.lstrip(" "))):] for line in lines)


def _inline_text(node: SyntaxTreeNode) -> str:
    return "".join(c.content for c in node.children if c.type == "inline").strip()


def _number_heading_questions(questions: list[_QuestionDraft]) -> None:
    """``### Q:`` questions without a number get the next free one, in file order."""
    taken = {q.number for q in questions if q.number > 0}
    nxt = 1
    for q in questions:
        if q.number < 0:
            while nxt in taken:
                nxt += 1
            q.number = nxt
            taken.add(nxt)


class _FigureFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[tuple[str, str]] = []
        self.cells: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img" and a.get("src") is not None:
            self.images.append((a.get("src") or "", (a.get("alt") or "").strip()))
        elif tag in ("td", "th", "figcaption", "caption"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th", "figcaption", "caption") and self._cell is not None:
            self.cells.append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _figures(content: str, loc: Location) -> list[Figure]:
    """Figures in an HTML block: each ``<img>``, captioned by the block's text cells."""
    if "<img" not in content.lower():
        return []
    finder = _FigureFinder()
    finder.feed(content)
    finder.close()
    caption = " ".join(c for c in finder.cells if c)
    return [Figure(src, html.unescape(alt), caption if len(finder.images) == 1 else alt, loc)
            for src, alt in finder.images]


def parse_text(text: str, path: str) -> tuple[list[Question], list[str], list[Diagnostic]]:
    """Parse a question file's text; returns questions, section titles and diagnostics."""
    norm = normalize(text)
    reader = _Reader(path, norm)
    tokens = parser().parse(norm.text)
    reader.diagnostics.extend(lint_tokens(tokens, path, norm.line, reader.lines))
    tree = SyntaxTreeNode(tokens)
    drafts, sections = reader.read(tree)
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
    return questions, sections, reader.diagnostics


def read_bank(path: Path, display: str | None = None) -> tuple[Bank, list[Diagnostic]]:
    """Read and parse a question file; undecodable files become a diagnostic, not a crash."""
    shown = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return Bank(shown, str(path.parent), ()), [Diagnostic(
            Location(shown, 1), f"cannot read the question file: {exc.strerror}", "unreadable")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        return Bank(shown, str(path.parent), ()), [Diagnostic(
            Location(shown, line), "the file is not valid UTF-8 (save it as UTF-8)",
            "encoding")]
    questions, sections, diags = parse_text(text, shown)
    return Bank(shown, str(path.parent), tuple(questions), sections=tuple(sections)), diags


__all__ = ["read_bank", "parse_text", "BLANK"]
