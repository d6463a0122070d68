"""The bank as plain typed records: what the parser produces and every later stage reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from enum import Enum

from deckgen.content import Content
from deckgen.errors import Location


class Kind(str, Enum):
    """How a question or part is asked, and so how its card is built."""

    OPEN = "open"
    TRUEFALSE = "truefalse"
    CHOICE = "choice"
    CLOZE = "cloze"


@dataclass(frozen=True)
class Text:
    """A run of Markdown from the bank (paragraphs, lists, code, math), kept as written."""

    markdown: str
    """The Markdown source, dedented out of any list it sat in."""
    loc: Location
    """Where it starts."""


@dataclass(frozen=True)
class Figure:
    """An image the bank shows: ``<table><img></table>`` with a caption row, or ``<img>``."""

    src: str
    """The path as written in the bank (relative to the file that references it)."""
    alt: str
    """The image's alt text."""
    caption: str
    """Plain-text caption (the table's caption row), or ''."""
    loc: Location
    """Where the figure is referenced."""


Block = Text | Figure


@dataclass(frozen=True)
class CodeBlock:
    """A fenced or indented code block inside a question (kept verbatim, even when broken)."""

    lang: str
    """The fence's language ('' if none)."""
    code: str
    """The code, as written."""
    loc: Location
    """Line of the opening fence."""


@dataclass(frozen=True)
class Choice:
    """One option of a multiple-choice question or part."""

    number: int
    """1-based position among the options."""
    markdown: str
    """The option's text."""
    loc: Location


@dataclass(frozen=True)
class Cell:
    """A ``{python}`` cell, or an inline `` `{python} expr` ``, in an answer or the setup."""

    code: str
    """Code without the ``#|`` option lines (for an inline cell: the expression)."""
    options: dict[str, str]
    """The ``#| key: value`` options, keys lower-cased."""
    loc: Location
    """Line of the opening fence (or of the inline expression)."""
    first_line: int
    """File line of the code's first line, so tracebacks point into the answers file."""
    inline: bool = False
    """True for an inline expression, whose value is put into the sentence."""


@dataclass(frozen=True)
class Answer:
    """The answer to one part: Markdown that may contain cells and inline ``{python}`` code."""

    markdown: str
    """The answer's Markdown source."""
    loc: Location
    """Where the answer starts (its ``## key`` heading or ``<details>`` block)."""
    cells: tuple[Cell, ...] = ()
    """The cells and inline expressions in the answer, in document order."""


@dataclass(frozen=True)
class Part:
    """A card's worth of question: one numbered sub-item, or the whole question if it has none."""

    label: str
    """'1', '2', ... or '' when the question has no parts."""
    body: tuple[Block, ...]
    """The part's own text, code and figures (the question's stem is separate)."""
    kind: Kind
    choices: tuple[Choice, ...]
    """Options, for CHOICE parts."""
    blanks: int
    """Number of ``[...]`` blanks, for CLOZE parts."""
    loc: Location
    answer: Answer | None = None
    id: str | None = None
    """Explicit identity from ``<!-- id: name -->`` (the question's id plus ``.label`` for a
    part), or None: then the lock file keeps the identity."""


@dataclass(frozen=True)
class Question:
    """A numbered question with its shared stem and its parts."""

    number: int
    """The number as written (numbering may have gaps)."""
    section: str
    """Title of the section (## or ### heading) it sits under."""
    stem: tuple[Block, ...]
    """Context shared by all its parts: text, code and figures."""
    parts: tuple[Part, ...]
    """At least one; a question without sub-items has one part labelled ''."""
    code: tuple[CodeBlock, ...]
    """The question's own code blocks in order (for ``#| question-code: N``)."""
    loc: Location

    def key(self, part: Part) -> str:
        """The answers-file key: ``34`` or ``34.2``."""
        return f"{self.number}.{part.label}" if part.label else str(self.number)


@dataclass(frozen=True)
class Bank:
    """Every question of one question file, plus its answers' shared setup."""

    path: str
    """The question file."""
    root: str
    """Directory that figures may not leave."""
    questions: tuple[Question, ...]
    setup: tuple[Cell, ...] = ()
    """Cells from the answers' ``## setup`` section, run before every question's cells."""
    sections: tuple[str, ...] = field(default=())
    """Section titles in order of first appearance."""
    style: str = ""
    """The question style the file was read in (numbered, heading, bold, labelled)."""


@dataclass(frozen=True)
class Card:
    """One note of the deck (a cloze note yields one Anki card per blank), ready to render."""

    guid: str
    """Stable identity: from the question's identity, never from its content."""
    ref: str
    """Short visible reference, e.g. ``Q34.2``."""
    key: str
    """Answers-file key, e.g. ``34.2``."""
    number: int
    part: str
    kind: Kind
    section: str
    deck: str
    """Full deck name, ``Parent::Section``."""
    loc: Location
    context: Content
    """What all parts of the question share (stem, code, figures); empty if none."""
    front: Content
    """What is asked (a cloze card's deletions are ``content.Cloze`` nodes)."""
    back: Content
    """The answer."""
    tags: tuple[str, ...]
    media: tuple[str, ...]
    """Media file names referenced by the fields."""
    answered: bool


@dataclass(frozen=True)
class Deck:
    """Everything renderers need: the cards and the media they reference."""

    name: str
    cards: tuple[Card, ...]
    media: dict[str, bytes]
    """file name -> content."""
    root: str = ""
    """The bank directory: outputs name source files relative to it, whatever the working
    directory of the build."""

    def source_path(self, loc_path: str) -> str:
        """A card's source file relative to the bank directory (as given if outside it)."""
        if not self.root:
            return loc_path
        try:
            return Path(loc_path).resolve().relative_to(Path(self.root).resolve()).as_posix()
        except ValueError:
            return loc_path
