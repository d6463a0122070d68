"""What every question style shares: drafts of questions, source slices, <details> answers,
parts and options inside a question, navigation to skip, and drafts -> model records.

A style module (numbered, heading, bold, labelled) decides where questions start and end and
hands each question's nodes to :class:`Reader`; everything after that is common.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from markdown_it.tree import SyntaxTreeNode

from deckgen.errors import Diagnostic, Location, Severity
from deckgen.model import Answer, Block, Choice, CodeBlock, Part, Question, Text
from deckgen.parse.figures import figures
from deckgen.parse.kinds import CHOICE_WORDING, asks, blanks, kind_of
from deckgen.parse.labels import A_LINE, Q_LINE, unbold
from deckgen.parse.repairs import Normalized

_MARKER_AT = re.compile(r"\s*\d{1,9}[.)]( {1,4}(?! )|\s*$)")
DETAILS_OPEN = re.compile(r"^\s*<details\b", re.IGNORECASE)
_DETAILS_CLOSE = re.compile(r"</details\s*>", re.IGNORECASE)
_SUMMARY = re.compile(r"<summary\b.*?</summary\s*>", re.IGNORECASE | re.DOTALL)
_DETAILS_TAG = re.compile(r"</?details\b[^>]*>", re.IGNORECASE)
ID_COMMENT = re.compile(r"<!--\s*id\s*:\s*([A-Za-z0-9][\w.-]*)\s*-->")
# Navigation: "[Back to top](#top)", "**[⬆ back to top](#contents)**", "[Prev](a.md) | [Next](b.md)"
_LINK = re.compile(r"!?\[[^\[\]]*\]\([^()]*\)")
_BACK_TO_TOP = re.compile(r"back\s+to\s+(the\s+)?(top|contents|index|questions)|table\s+of\s+"
                          r"contents|⬆|↑|🔝", re.IGNORECASE)
_BADGE = re.compile(r"\[!\[[^\]]*\]\([^)]*\)\]\([^)]*\)"
                    r"|!\[[^\]]*\]\([^)]*(shields\.io|badge)[^)]*\)", re.IGNORECASE)
_IN_PAGE = re.compile(r"\]\(\s*#")
_TAG = re.compile(r"<[^>]*>")
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z][a-zA-Z0-9]*)")

@dataclass
class Item:
    """A numbered item being read: its column and the nodes that make it up."""

    node: SyntaxTreeNode
    col: int  # column where the item's content starts


@dataclass
class PartDraft:
    item: Item | None
    extra: list[tuple[SyntaxTreeNode, int]] = field(default_factory=list)
    answer: Answer | None = None


@dataclass
class QuestionDraft:
    number: int
    section: str
    loc: Location
    stem: list[tuple[SyntaxTreeNode, int]] = field(default_factory=list)
    head: str = ""
    """Question text from a heading, a bold paragraph or a Q: line."""
    parts: list[PartDraft] = field(default_factory=list)
    choices: list[Item] = field(default_factory=list)
    answer: Answer | None = None
    item: Item | None = None
    """The numbered item the question was read from (numbered style)."""
    answer_end: int = 0
    """Line index where the answer ends (labelled style)."""


class Reader:
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

    style = ""
    """The style's name, as in ``deckgen.toml``."""
    nodes: list[SyntaxTreeNode] | None = None
    """The file's content nodes, once found (``content_nodes``)."""

    def read(self, root: SyntaxTreeNode) -> tuple[list[QuestionDraft], list[str]]:
        """The file's questions as drafts, and its section titles in order."""
        raise NotImplementedError

    # -- navigation, shared by every style ------------------------------------------------

    def content_nodes(self, root: SyntaxTreeNode) -> list[SyntaxTreeNode]:
        """Top-level nodes without front matter and navigation (tables of contents, "back to
        top" links, badges), which are never questions, parts or answers. ``self.nodes``,
        when set, already holds them (style detection found them first)."""
        if self.nodes is None:
            self.nodes = [n for n in root.children
                          if n.type != "front_matter" and not self.is_navigation(n)]
        return self.nodes

    def is_navigation(self, node: SyntaxTreeNode) -> bool:
        if not node.map:
            return False
        if node.type == "paragraph":
            return is_nav_text(" ".join(self.lines[node.map[0]:node.map[1]]))
        if node.type in ("bullet_list", "ordered_list"):
            return all(_is_toc_item(self, item) for item in node.children)
        if node.type == "html_block":
            content = node.content or ""
            tags = {t.lower() for t in _TAG_NAME.findall(content)}
            words = _TAG.sub(" ", content)
            if not words.strip():  # anchors and line breaks only: <a name="q1"></a>
                return bool(tags) and tags <= {"a", "br", "p", "span"}
            return tags <= {"a", "p", "div", "span", "b", "strong", "sub", "sup", "img"} and \
                bool(_BACK_TO_TOP.search(words)) and len(words.split()) <= 6
        return False

    def answer_from(self, nodes: list[SyntaxTreeNode], loc: Location | None = None,
                    skip_lines: int = 0) -> Answer | None:
        """The Markdown of a run of top-level nodes, as written (navigation lines blanked, so
        line numbers inside the answer stay those of the file); None if there is nothing.

        ``skip_lines`` drops the first lines of the first node (a question line that shares
        its paragraph with the start of the answer).
        """
        nodes = [n for n in nodes if n.map]
        while nodes and nodes[-1].type == "hr":  # a --- between questions is no answer
            nodes.pop()
        while nodes and nodes[0].type == "hr" and not skip_lines:
            nodes.pop(0)
        if not nodes:
            return None
        assert nodes[0].map is not None and nodes[-1].map is not None
        start, end = nodes[0].map[0] + skip_lines, nodes[-1].map[1]
        nav = {i for n in self_nav(self, nodes) for i in range(*n)}
        lines = ["" if i in nav else self.lines[i] for i in range(start, end)]
        markdown = "\n".join(lines).strip("\n")
        if not markdown.strip():
            return None
        first = next(i for i, line in enumerate(lines) if line.strip())
        return Answer(markdown, loc or self.loc(start + first))

    def fill_headed(self, q: QuestionDraft, nodes: list[SyntaxTreeNode],
                    skip_lines: int = 0) -> None:
        """A question whose text is its heading (or bold line or label): the nodes after it
        are its answer, unless a ``<details>`` block among them holds the answer: then the
        nodes are read as in the numbered style (question text, parts, options, answers)."""
        if any(n.type == "html_block" and DETAILS_OPEN.match(n.content or "")
               for node in nodes for n in node.walk()):
            self._read_question(q, [(n, 0) for n in nodes])
            return
        nodes, skip_lines = self._labelled_start(q, nodes, skip_lines)
        q.answer = self.answer_from(nodes, skip_lines=skip_lines)
        if q.answer is not None:  # "**Answer:** It is ..." : the label is not the answer
            first, _, rest = q.answer.markdown.partition("\n")
            m = A_LINE.match(first)
            if m:
                markdown = (unbold(m.group(2)) + ("\n" + rest if rest else "")).strip("\n")
                q.answer = Answer(markdown, q.answer.loc) if markdown.strip() else None

    def _labelled_start(self, q: QuestionDraft, nodes: list[SyntaxTreeNode], skip_lines: int
                        ) -> tuple[list[SyntaxTreeNode], int]:
        """``## Question 3: Caching`` then ``**Question:** What does ...?``: the labelled
        question belongs to the question's text, up to its ``Answer:`` line."""
        first = next((i for i, n in enumerate(nodes) if n.map), None)
        if first is None or nodes[first].type != "paragraph" or skip_lines:
            return nodes, skip_lines
        node = nodes[first]
        assert node.map is not None
        lines = self.lines[node.map[0]:node.map[1]]
        m = Q_LINE.match(lines[0])
        if not m:
            return nodes, skip_lines
        answer_at = next((i for i, line in enumerate(lines) if A_LINE.match(line)), None)
        text = "\n".join([unbold(m.group(2))] + [line.strip() for line in
                                                  lines[1:answer_at or len(lines)]]).strip()
        q.head = (q.head + "\n\n" + text).strip() if text else q.head
        if answer_at is None:
            return nodes[first + 1:], 0
        return nodes[first:], answer_at

    def unattributed(self, node: SyntaxTreeNode) -> None:
        """A ``<details>`` answer before any question is worth a word; other text before the
        first question is an introduction."""
        if node.type == "html_block" and DETAILS_OPEN.match(node.content or ""):
            self.diagnostics.append(Diagnostic(
                self.loc(node), "an answer (<details>) belongs to no question: no question "
                "precedes it", "unattributed", Severity.WARNING))

    # -- inside a question ----------------------------------------------------------------

    def _read_question(self, q: QuestionDraft, nodes: list[tuple]) -> None:
        """Sort a question's nodes into stem, parts (with trailing content) and options.

        An entry is a node, or a plain list of list items (the tail of the question's list).
        """
        for node, col in self._with_details([n for n, _ in nodes], nodes[0][1] if nodes else 0, q):
            if isinstance(node, list) or node.type == "ordered_list":
                children = node if isinstance(node, list) else node.children
                items = [Item(i, self.item_col(i, col)) for i in children]
                context = self._text(q.parts[-1].item.node.children[:1], q.parts[-1].item.col) \
                    if q.parts and q.parts[-1].item else self._stem_text(q)
                if not q.parts and CHOICE_WORDING.search(context) and not q.choices:
                    q.choices = items
                    continue
                if self._is_parts_list(items):
                    q.parts.extend(PartDraft(item) for item in items)
                    continue
                if isinstance(node, list):  # content items (statements, steps, data)
                    for item in items:
                        self._append(q, (item.node, 0))
                    continue
            self._append(q, (node, col))

    @staticmethod
    def _append(q: QuestionDraft, entry: tuple[SyntaxTreeNode, int]) -> None:
        if q.parts:
            q.parts[-1].extra.append(entry)
        else:
            q.stem.append(entry)

    def _with_details(self, nodes: list, col: int, q: QuestionDraft,
                      part: PartDraft | None = None):
        """Yield nodes with columns; ``<details>`` blocks become answers instead (of ``part``
        when given, else of the question's last part so far, else of the question)."""
        i = 0
        while i < len(nodes):
            node = nodes[i]
            if not isinstance(node, list) and node.type == "html_block" and \
                    DETAILS_OPEN.match(node.content or ""):
                j = i
                while j + 1 < len(nodes) and not closes_details(nodes[j]):
                    j += 1
                last = nodes[j]
                if isinstance(last, list) or not closes_details(last):
                    j, last = i, node  # never closed: take the opening block alone
                    self.diagnostics.append(Diagnostic(
                        self.loc(node), "<details> is never closed with </details>; only its "
                        "first block is taken as the answer", "unclosed-details",
                        Severity.WARNING))
                start, end = node.map or (0, 0)
                end = last.map[1] if last.map else end
                raw = "\n".join(self.lines[start:end])
                body = _DETAILS_TAG.sub("", _SUMMARY.sub("", raw, count=1)).strip("\n")
                answer = Answer(dedent(body, col), self.loc(node))
                target: PartDraft | QuestionDraft = part or (q.parts[-1] if q.parts else q)
                if target.answer is not None:
                    self.diagnostics.append(Diagnostic(
                        self.loc(node), "a second <details> answer for the same question",
                        "duplicate-answer"))
                target.answer = answer
                i = j + 1
                continue
            yield node, col
            i += 1

    def _is_parts_list(self, items: list[Item]) -> bool:
        asking = sum(1 for item in items if asks(self._text(item.node.children, item.col)))
        return asking * 2 >= len(items) and asking > 0

    def _text(self, nodes, col: int) -> str:
        return "\n".join(self.source(n, col) for n in nodes if n.map)

    def _stem_text(self, q: QuestionDraft) -> str:
        return q.head + "\n" + "\n".join(self.source(n, c) for n, c in q.stem if n.map)

    # -- drafts -> model ------------------------------------------------------------------

    def blocks(self, nodes: list[tuple[SyntaxTreeNode, int]]) -> list[Block]:
        out: list[Block] = []
        for node, col in nodes:
            if not node.map:
                continue
            if node.type == "html_block":
                found = figures(node.content or "", self.loc(node))
                if found:
                    out.extend(found)
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

    def question(self, q: QuestionDraft) -> Question | None:
        stem_nodes = list(q.stem)
        parts: list[Part] = []
        all_nodes = list(stem_nodes)
        drafts = q.parts
        if len(drafts) == 1 and not q.choices:
            # a lone sub-item is the question itself, not a part of it
            only = drafts[0]
            assert only.item is not None
            stem_nodes += list(self._with_details(list(only.item.node.children), only.item.col,
                                                  q, only)) + only.extra
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
            parts.append(Part("", (), kind_of(text, choices), choices, blanks(text), q.loc,
                              q.answer))
            body_stem = stem
        else:
            body_stem = stem
            for number, draft in enumerate(drafts, start=1):
                assert draft.item is not None
                item = draft.item
                own: list[tuple[SyntaxTreeNode, int]] = []
                choices_items: list[Item] = []
                for child, _ in self._with_details(list(item.node.children), item.col, q,
                                                    draft):
                    if child.type == "ordered_list" and not choices_items and \
                            CHOICE_WORDING.search(self._text([c for c, _ in own], item.col)):
                        choices_items = [Item(i, self.item_col(i, item.col))
                                         for i in child.children]
                    else:
                        own.append((child, item.col))
                own += draft.extra
                all_nodes += own
                body = self.blocks(own)
                text = "\n".join(b.markdown for b in body if isinstance(b, Text))
                choices = self._choices(choices_items)
                parts.append(Part(str(number), tuple(body), kind_of(text, choices), choices,
                                  blanks(text), self.loc(item.node), draft.answer))
            if q.answer is not None:
                self.diagnostics.append(Diagnostic(
                    q.answer.loc, f"question {q.number} has parts; put each <details> answer "
                    "after its part", "misplaced-answer"))
        qid = explicit_id(body_stem)
        parts = [replace(p, id=explicit_id(p.body) or
                         (f"{qid}.{p.label}" if qid and p.label else qid)) for p in parts]
        return Question(q.number, q.section, tuple(body_stem), tuple(parts),
                        tuple(self.code_blocks(all_nodes)), q.loc)

    def _choices(self, items: list[Item]) -> tuple[Choice, ...]:
        return tuple(Choice(n, self._text(i.node.children, i.col), self.loc(i.node))
                     for n, i in enumerate(items, start=1))



def is_nav_text(text: str) -> bool:
    """A line of only links that is navigation: to anchors in the page, "back to top", badges."""
    text = text.strip()
    if not links_only(text):
        return False
    return bool(_IN_PAGE.search(text) or _BACK_TO_TOP.search(text) or _BADGE.search(text))


def links_only(text: str) -> bool:
    """Is this text nothing but links and images (and punctuation, emoji, separators)?"""
    found = False
    for _ in range(4):  # a link around an image is replaced from the inside out
        text, n = _LINK.subn("\0", text)
        found = found or n > 0
        if not n:
            break
    return found and not re.search(r"[^\W_]", text.replace("\0", ""))


def _is_toc_item(reader: Reader, item: SyntaxTreeNode) -> bool:
    """A list item that is only a link to a place in the page or another Markdown file."""
    if not item.map or not item.children:
        return False
    for child in item.children:
        if child.type in ("bullet_list", "ordered_list"):
            if not all(_is_toc_item(reader, i) for i in child.children):
                return False
        elif child.type != "paragraph" or not child.map:
            return False
        else:
            line = " ".join(reader.lines[child.map[0]:child.map[1]]).strip()
            line = re.sub(r"^\s*\d{1,9}[.)]\s*|^\s*[-*+]\s*", "", line)
            targets = re.findall(r"\]\(\s*([^)\s]*)", line)
            if not links_only(line) or not targets or not all(
                    t.startswith("#") or t.split("#")[0].lower().endswith(".md") for t in targets):
                return False
    return True


def self_nav(reader: Reader, nodes: list[SyntaxTreeNode]) -> list[tuple[int, int]]:
    """Line ranges of the navigation among these nodes (and of navigation lines inside them)."""
    spans = []
    for node in nodes:
        assert node.map is not None
        if reader.is_navigation(node):
            spans.append((node.map[0], node.map[1]))
        elif node.type == "paragraph":
            spans.extend((i, i + 1) for i in range(*node.map) if is_nav_text(reader.lines[i]))
    return spans


def closes_details(node) -> bool:
    return not isinstance(node, list) and node.type == "html_block" and \
        bool(_DETAILS_CLOSE.search(node.content or ""))


def explicit_id(blocks) -> str | None:
    for block in blocks:
        if isinstance(block, Text):
            m = ID_COMMENT.search(block.markdown)
            if m:
                return m.group(1)
    return None



def dedent(text: str, col: int) -> str:
    lines = text.split("\n")
    return "\n".join(line[min(col, len(line) - len(line.lstrip(" "))):] for line in lines)


def inline_text(node: SyntaxTreeNode) -> str:
    return "".join(c.content for c in node.children if c.type == "inline").strip()


def sections_of(questions: list[QuestionDraft]) -> list[str]:
    """Section titles in order of first appearance."""
    sections: list[str] = []
    for q in questions:
        if q.section and q.section not in sections:
            sections.append(q.section)
    return sections


def finished(questions: list[QuestionDraft]) -> tuple[list[QuestionDraft], list[str]]:
    """What every style's ``read`` returns: its drafts, the unnumbered ones numbered, and the
    section titles in order."""
    number_free_questions(questions)
    return questions, sections_of(questions)


def h1_sections(nodes: list[SyntaxTreeNode]) -> bool:
    """Are ``#`` headings sections here? Only when the file has more than one: a single one
    is the document's title."""
    return sum(1 for n in nodes if n.type == "heading" and n.tag == "h1") > 1


def number_free_questions(questions: list[QuestionDraft]) -> None:
    """``### Q:`` questions without a number get the next free one, in file order."""
    taken = {q.number for q in questions if q.number > 0}
    nxt = 1
    for q in questions:
        if q.number < 0:
            while nxt in taken:
                nxt += 1
            q.number = nxt
            taken.add(nxt)

