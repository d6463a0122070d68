"""A card's content as typed nodes: what the cards stage builds and every renderer renders.

No HTML and no Anki syntax here: a cloze deletion is a :class:`Cloze`, a marked option a
:class:`Choice` with its correctness, a cell's result an :class:`Output` holding the cell's
MIME bundle (each renderer picks the type it shows best). Text is plain text, never escaped;
markup from the bank's Markdown, or from its raw HTML once reduced to the allowed subset
(``deckgen.render.sanitize``), is an :class:`Element` named by its HTML tag, the vocabulary
Markdown itself is defined in.

Every node is a frozen dataclass: content is hashable, compares by value and can be cached.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from deckgen.errors import Location


@dataclass(frozen=True)
class Text:
    """Plain text, as the reader sees it."""

    text: str


@dataclass(frozen=True)
class Element:
    """Structure: a paragraph, emphasis, a list or its item, a table, a link, a line break...

    ``tag`` is the HTML element Markdown defines it as (``p``, ``strong``, ``ol``, ``li``,
    ``a``, ``br``, ``img``); ``attrs`` are the allowed attributes only (``href``, ``start``,
    ``align``, an image's ``src``, which is a media file name, and ``alt``; ``class``)."""

    tag: str
    children: Content = ()
    attrs: tuple[tuple[str, str], ...] = ()

    def attr(self, name: str, default: str = "") -> str:
        return next((v for k, v in self.attrs if k == name), default)

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.attr("class").split())


@dataclass(frozen=True)
class Math:
    """A formula, as LaTeX (any computed values put in)."""

    tex: str
    display: bool
    in_paragraph: bool = False
    """A display formula written inside a paragraph (``$$...$$`` between words)."""


@dataclass(frozen=True)
class Code:
    """Inline code."""

    code: str


@dataclass(frozen=True)
class CodeBlock:
    """A block of code, to be highlighted as ``lang`` ('' or 'text': none)."""

    code: str
    lang: str = ""

    @property
    def language(self) -> str:
        """The language as a plain name (letters, digits, ``+#-``): ``text`` if none."""
        return re.sub(r"[^\w+#-]", "", self.lang or "text")


@dataclass(frozen=True)
class Figure:
    """An image of the bank with its caption; ``src`` is its media file name, or None when
    it could not be shown (missing, unsafe)."""

    src: str | None
    alt: str
    caption: str


@dataclass(frozen=True)
class Blank:
    """A blank of a cloze question, before its fill is known (see :func:`replace_blanks`)."""

    number: int


@dataclass(frozen=True)
class Cloze:
    """A cloze deletion: Anki card ``number`` asks for ``fill``. Blanks with the same fill
    share the first one's number."""

    number: int
    fill: Content


@dataclass(frozen=True)
class Choice:
    """An option of a multiple-choice question; ``correct`` is None where it is asked."""

    children: Content
    correct: bool | None = None


@dataclass(frozen=True)
class Choices:
    """The options, as asked (no verdicts) or marked (each correct or wrong)."""

    items: tuple[Choice, ...]

    @property
    def marked(self) -> bool:
        return any(item.correct is not None for item in self.items)


@dataclass(frozen=True)
class Verdict:
    """The answer of a true/false question: ``value`` is 'true' or 'false'."""

    value: str
    children: Content


@dataclass(frozen=True)
class Output:
    """One output of a cell: its MIME bundle (``image/*`` data as a media file name, other
    types as text), with the cell's figure caption (Markdown made content) and alt text."""

    cell: str
    """The cell's id: the answers-file key and its position in the answer, ``34.2#1``."""
    data: tuple[tuple[str, str], ...]
    alt: str = ""
    caption: Content = ()

    def get(self, mime: str) -> str | None:
        return next((v for k, v in self.data if k == mime), None)

    def choose(self, priority: tuple[str, ...]) -> tuple[str, str] | None:
        """(MIME type, data) of the first type in ``priority`` the bundle has."""
        return next(((m, v) for m in priority if (v := self.get(m)) is not None), None)


def latex_formula(latex: str) -> str:
    """A ``text/latex`` output as a formula's source: without its ``$`` delimiters."""
    return latex.strip().strip("$")


@dataclass(frozen=True)
class Cell:
    """A cell as the card shows it: its code (None when ``echo: false``) and its outputs."""

    cell: str
    code: str | None
    outputs: tuple[Output, ...] = ()


@dataclass(frozen=True)
class Value:
    """The value of an inline expression (`` `{python} expr` ``), as text in the sentence."""

    cell: str
    text: str


@dataclass(frozen=True)
class Details:
    """A part that can fold away: ``kind`` is 'earlier' (what a question refers back to) or
    'fold' (a long context); ``summary`` its label."""

    kind: str
    summary: str
    children: Content


@dataclass(frozen=True)
class Unanswered:
    """The back of a card with no answer yet: it names the answers-file key to add."""

    key: str


@dataclass(frozen=True)
class Block:
    """One piece of the bank (a run of Markdown, an answer) and where it starts."""

    loc: Location
    children: Content


Node = (Text | Element | Math | Code | CodeBlock | Figure | Blank | Cloze | Choices | Verdict
        | Output | Cell | Value | Details | Unanswered | Block)
Content = tuple[Node, ...]

_PARENTS = (Element, Verdict, Details, Block)


def children(node: Node) -> Content:
    """The content directly inside a node (a cloze's fill, a choice's text included)."""
    if isinstance(node, _PARENTS):
        return node.children
    if isinstance(node, Cloze):
        return node.fill
    if isinstance(node, Choices):
        return tuple(n for item in node.items for n in item.children)
    if isinstance(node, Cell):
        return node.outputs
    if isinstance(node, Output):
        return node.caption
    return ()


def walk(content: Content) -> Iterator[Node]:
    """Every node, in document order (a node before what is inside it)."""
    for node in content:
        yield node
        yield from walk(children(node))


def media_of(content: Content) -> list[str]:
    """The media file names the content shows, in order of first appearance."""
    names: list[str] = []
    for node in walk(content):
        if isinstance(node, Figure) and node.src:
            names.append(node.src)
        elif isinstance(node, Element) and node.tag == "img" and node.attr("src"):
            names.append(node.attr("src"))
        elif isinstance(node, Output):
            names.extend(v for k, v in node.data if k.startswith("image/"))
    return list(dict.fromkeys(names))


def clozes(content: Content) -> list[Cloze]:
    """The deletions, in document order."""
    return [node for node in walk(content) if isinstance(node, Cloze)]


def cloze_fills(content: Content) -> list[tuple[int, Content]]:
    """(number, fill) of each Anki card the deletions make, by number."""
    seen: dict[int, Content] = {}
    for node in clozes(content):
        seen.setdefault(node.number, node.fill)
    return sorted(seen.items())


def replace_blanks(content: Content, fills: list[Content]) -> Content:
    """``content`` with each :class:`Blank` made a :class:`Cloze` of its fill (``?`` where
    the answer has too few). Blanks with the same fill (ignoring case and spacing) share the
    first one's number: a card asking one of them would show the other's text, its own
    answer. The later numbers are kept as they are, so other blanks keep their cards."""
    first: dict[str, int] = {}
    for i, fill in enumerate(fills, start=1):
        first.setdefault(_fill_key(fill), i)

    def sub(nodes: Content) -> Content:
        out: list[Node] = []
        for node in nodes:
            if isinstance(node, Blank):
                fill = fills[node.number - 1] if node.number - 1 < len(fills) else (Text("?"),)
                out.append(Cloze(first.get(_fill_key(fill), node.number), fill))
            elif isinstance(node, Element):
                out.append(Element(node.tag, sub(node.children), node.attrs))
            elif isinstance(node, Block):
                out.append(Block(node.loc, sub(node.children)))
            else:
                out.append(node)
        return tuple(out)
    return sub(content)


def _fill_key(fill: Content) -> str:
    return " ".join(repr(fill).split()).casefold()


def text_of(content: Content) -> str:
    """The text of the content, nothing else (for a code block written as raw HTML)."""
    out: list[str] = []
    for node in walk(content):
        if isinstance(node, Text | Value):
            out.append(node.text)
        elif isinstance(node, Code | CodeBlock):
            out.append(node.code)
    return "".join(out)
