"""Bank Markdown (and cell results) -> card content (``deckgen.content``).

markdown-it's tokens, and the bank's raw HTML reduced to the allowed subset
(``deckgen.render.sanitize``), become one tree of nodes: what the Markdown means, nothing of
how any output writes it. Images are resolved into the media store here, a cell's outputs are
attached to the cell they were computed from (by the cell's code, never by position), and
what a computed value would make Anki or MathJax do is warned about at the answer's line.
"""

from __future__ import annotations

import base64
import re
from functools import partial
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markdown_it.token import Token

from deckgen import content as c
from deckgen.errors import Diagnostic, Location, Severity
from deckgen.markdown import parser
from deckgen.render.sanitize import (ANKI_MARKUP_MESSAGE, TEXT_FORMULA_MESSAGE, UNSAFE_LATEX,
                                     VOID_TAGS, anki_markup_in, formula_message, inert_tex,
                                     sanitize_into, text_formula_in)

if TYPE_CHECKING:
    from deckgen.media import MediaStore
    from deckgen.model import Cell

BLANK_MARK = re.compile("\ue000(\\d+)\ue001")
"""A cloze blank, numbered, as :func:`mark_blanks` writes it into the Markdown."""
_BLANK_OR_SPAN = re.compile(r"`\[(?:\.\.\.|…)\]`|\$\[(?:\.\.\.|…)\]\$|\[(?:\.\.\.|…)\]")
_DROP_OPEN = re.compile(r"<(script|style|iframe|object|embed|noscript|template|svg|math|form|"
                        r"textarea|select|button|title)\b", re.IGNORECASE)


def mark_blanks(text: str, counter: list[int]) -> str:
    """``[...]`` blanks as numbered marks, in the order they are written. ``\\`[...]\\``` and
    ``$[...]$`` are whole-span blanks: the deletion replaces the span (the code span keeps
    its look)."""
    def mark(m: re.Match[str]) -> str:
        counter[0] += 1
        tick = "`" if m.group(0)[0] == "`" else ""
        return f"{tick}\ue000{counter[0]}\ue001{tick}"
    return _BLANK_OR_SPAN.sub(mark, text)


@dataclass
class Outputs:
    """Results of an answer's cells, handed to each cell as the composer meets it.

    ``cells`` are the cells the results belong to (``deckgen.answers.scan``, in document
    order). A result goes only to the cell whose code it was computed from, whatever order
    the cells are met in (a cloze's fills are composed before the cells above them): the
    first result not yet given out whose cell has that code. A cell with no result (it
    failed, or was not computed) gets none; a cell the scan did not see gets none and is
    named in ``mismatched``; never another cell's output."""

    items: list[dict[str, Any]]
    cells: list[Cell] | None = None
    key: str = ""
    """The answers-file key: cell ids are ``key#n``, n the cell's place in the answer."""
    position: int = 0
    mismatched: list[str] = field(default_factory=list)
    _given: set[int] = field(default_factory=set)

    def take(self, code: str | None = None) -> tuple[str, dict[str, Any] | None]:
        """(the cell's id, its result or None)."""
        if self.cells is None or code is None:  # by position (no cells known)
            while self.position in self._given:
                self.position += 1
            if self.position >= len(self.items):
                return self._id(self.position), None
            self._given.add(self.position)
            self.position += 1
            return self._id(self.position - 1), self.items[self.position - 1]
        wanted = code.strip()
        mine = [i for i, cell in enumerate(self.cells) if cell.code.strip() == wanted]
        for i in mine:
            if i not in self._given and i < len(self.items):
                self._given.add(i)
                return self._id(i), self.items[i]
        if not mine:  # a cell the scan did not see: nothing of another cell goes to it
            self.mismatched.append(wanted[:40])
            return self._id(-1), None
        return self._id(mine[0]), None  # (its cell has no result: it failed, or never ran)

    def next(self, code: str | None = None) -> dict[str, Any] | None:
        return self.take(code)[1]

    def _id(self, i: int) -> str:
        return f"{self.key}#{i + 1}" if i >= 0 else f"{self.key}#?"


@dataclass
class ComposeContext:
    """What a piece of Markdown needs to become content."""

    media: MediaStore
    base: Path
    """Directory that relative image paths start from."""
    loc: Location
    """Where this Markdown starts (for diagnostics)."""
    outputs: Outputs | None = None
    """Cell results; None when the Markdown may not contain cells (question text)."""
    diagnostics: list[Diagnostic] = field(default_factory=list)


MAX_DEPTH = 64
"""Elements nested deeper than this (only raw HTML nests so: Markdown is kept to 16 levels by
``parse.limits``) are left out, their content kept in the element around them: every output
walks the content recursively."""


class _Tree:
    """Open and close events -> nested nodes. Lenient as a browser is with the bank's raw
    HTML: an end tag closes the elements opened since its own start tag, a stray one closes
    nothing, and whatever is still open at the end is closed there."""

    def __init__(self) -> None:
        self.stack: list[tuple[str, tuple[tuple[str, str], ...], list[c.Node]]] = [
            ("", (), [])]

    def start(self, tag: str, attrs: list[tuple[str, str]]) -> None:
        if tag in VOID_TAGS:
            self.add(c.Element(tag, (), tuple(attrs)))
        elif len(self.stack) <= MAX_DEPTH:
            self.stack.append((tag, tuple(attrs), []))

    def end(self, tag: str) -> None:
        if not any(t == tag for t, _, _ in self.stack[1:]):
            return
        while True:
            open_tag = self._pop()
            if open_tag == tag:
                return

    def data(self, text: str) -> None:
        if text:
            self.add(c.Text(text))

    def add(self, node: c.Node) -> None:
        self.stack[-1][2].append(node)

    def _pop(self) -> str:
        tag, attrs, kids = self.stack.pop()
        self.add(c.Element(tag, tuple(kids), attrs))
        return tag

    def close(self) -> c.Content:
        while len(self.stack) > 1:
            self._pop()
        return tuple(self.stack[0][2])


class _Composer:
    def __init__(self, ctx: ComposeContext):
        self.ctx = ctx
        self.md = parser()

    def warn(self, line: int, message: str) -> None:
        """A warning about what a cell computed, at the line of the Markdown it is in."""
        d = Diagnostic(Location(self.ctx.loc.path, self.ctx.loc.line + line), message,
                       UNSAFE_LATEX, Severity.WARNING)
        if d not in self.ctx.diagnostics:
            self.ctx.diagnostics.append(d)

    def computed_text(self, text: str, line: int) -> None:
        """Warn about a computed value shown as text that Anki would have acted on."""
        if text_formula_in(text):
            self.warn(line, TEXT_FORMULA_MESSAGE)
        if anki_markup_in(text):
            self.warn(line, ANKI_MARKUP_MESSAGE)

    def image(self, src: str, line: int) -> str | None:
        loc = Location(self.ctx.loc.path, self.ctx.loc.line + line)
        before = len(self.ctx.media.diagnostics)
        name = self.ctx.media.image(src, self.ctx.base, loc)
        self.ctx.diagnostics.extend(self.ctx.media.diagnostics[before:])
        del self.ctx.media.diagnostics[before:]
        return name

    def text(self, tree: _Tree, text: str) -> None:
        """Text, with the blanks marked in it made :class:`Blank` nodes."""
        pos = 0
        for m in BLANK_MARK.finditer(text):
            tree.data(text[pos:m.start()])
            tree.add(c.Blank(int(m.group(1))))
            pos = m.end()
        tree.data(text[pos:])

    def compose(self, markdown: str) -> c.Content:
        tree = _Tree()
        self.block(self.md.parse(markdown), tree)
        return tree.close()

    def block(self, tokens: list[Token], tree: _Tree) -> None:
        line = 0
        for tok in tokens:
            if tok.map:
                line = tok.map[0]
            t = tok.type
            if t == "inline":
                self.inline(tok.children or [], line, tree)
            elif t == "fence":
                tree.add(self.fence(tok, line))
            elif t == "code_block":
                tree.add(c.CodeBlock(tok.content, "text"))
            elif t in ("math_block", "math_block_label"):
                tree.add(self.math(tok.content, display=True, line=line))
            elif t == "html_block":
                sanitize_into(tok.content, tree, partial(self.image, line=line))
            elif t == "hr":
                tree.add(c.Element("hr"))
            elif t.endswith("_open"):
                if t == "paragraph_open" and tok.hidden:
                    continue
                attrs: list[tuple[str, str]] = []
                if tok.tag == "ol" and tok.attrs.get("start") not in (None, 1, "1"):
                    attrs = [("start", str(int(tok.attrs["start"])))]
                if tok.tag in ("td", "th") and tok.attrs.get("style"):
                    attrs = [("align", str(tok.attrs["style"]).split(":")[-1])]
                tree.start(tok.tag, attrs)
            elif t.endswith("_close"):
                if t == "paragraph_close" and tok.hidden:
                    continue
                tree.end(tok.tag)
            # front matter and unknown tokens are dropped rather than leaked as raw text

    def fence(self, tok: Token, line: int) -> c.Node:
        from deckgen.answers import CELL_INFO

        info = (tok.info or "").strip()
        if CELL_INFO.match(info) and self.ctx.outputs is not None:
            return self.cell(tok, line)
        lang = info.split()[0] if info else ""
        return c.CodeBlock(tok.content, "cpp" if lang in ("c++", "cpp") else lang)

    def cell(self, tok: Token, line: int) -> c.Node:
        from deckgen.answers import split_cell

        code, options = split_cell(tok.content)
        assert self.ctx.outputs is not None
        cell_id, result = self.ctx.outputs.take(code)
        outputs: tuple[c.Output, ...] = ()
        if result is not None and _truthy(options.get("output", "true")):
            outputs = tuple(o for o in (self.output(cell_id, out, options, line)
                                        for out in result.get("outputs", [])) if o)
        shown = code if _truthy(options.get("echo", "true")) else None
        return c.Cell(cell_id, shown, outputs)

    def output(self, cell_id: str, out: dict[str, Any], options: dict[str, str],
               line: int) -> c.Output | None:
        data: dict[str, Any] = out.get("data", {})
        bundle: list[tuple[str, str]] = []
        for mime, value in data.items():
            if not isinstance(value, str):
                continue
            if mime == "image/svg+xml":
                value = self.ctx.media.add_bytes(value.encode(), ".svg")
            elif mime == "image/png":
                value = self.ctx.media.add_bytes(base64.b64decode(value), ".png")
            elif mime not in ("text/latex", "text/plain"):
                continue
            bundle.append((mime, value))
        images = any(m.startswith("image/") for m, _ in bundle)
        latex = dict(bundle).get("text/latex")
        if not images and latex is not None:
            tex = c.latex_formula(latex)
            found = inert_tex(tex)[1]
            if found:
                self.warn(line, formula_message(tex, found))
        elif not images and anki_markup_in(dict(bundle).get("text/plain", "")):
            self.warn(line, ANKI_MARKUP_MESSAGE)
        if not bundle or (not images and latex is None and not dict(bundle).get("text/plain")):
            return None
        alt = options.get("fig-alt") or options.get("fig-cap") or options.get("label") or "plot"
        cap = options.get("fig-cap")
        caption = self.inline_markdown(cap, line) if cap else ()
        return c.Output(cell_id, tuple(bundle), alt, caption)

    def math(self, tex: str, display: bool, line: int = 0, in_paragraph: bool = False
             ) -> c.Math:
        """A formula, with its inline ``{python}`` values put in (they are LaTeX already).

        A command the values bring in (that the formula as written does not have, which is
        reported when the bank is gathered) is warned about here."""
        from deckgen.answers import IN_MATH

        if self.ctx.outputs is None:  # question text: no cells, show as written
            return c.Math(tex, display, in_paragraph)
        values = 0
        outputs = self.ctx.outputs

        def value(m: re.Match[str]) -> str:
            nonlocal values
            values += 1
            result = outputs.next(m.group(1))
            return str((result or {}).get("value", r"\text{?}"))
        full = IN_MATH.sub(value, tex)
        if values:
            found = inert_tex(full)[1]
            written = inert_tex(IN_MATH.sub(" ", tex))[1]
            if len(found) > len(written):
                self.warn(line, formula_message(full, found))
        return c.Math(full, display, in_paragraph)

    def inline_markdown(self, text: str, line: int = 0) -> c.Content:
        tokens = self.md.parseInline(text)
        tree = _Tree()
        if tokens:
            self.inline(tokens[0].children or [], line, tree)
        return tree.close()

    def inline(self, children: list[Token], line: int, tree: _Tree) -> None:
        dropping: str | None = None  # inside an inline <script>...</script> and the like
        for tok in children:
            t = tok.type
            if dropping is not None:
                if t == "html_inline" and re.match(rf"</{dropping}\s*>", tok.content, re.I):
                    dropping = None
                continue
            if t == "html_inline":
                m = _DROP_OPEN.match(tok.content)
                if m and not tok.content.rstrip().endswith("/>"):
                    dropping = m.group(1).lower()
                    continue
            if t == "text":
                self.text(tree, tok.content)
            elif t == "code_inline":
                self.code_inline(tok.content, line, tree)
            elif t == "math_inline":
                tree.add(self.math(tok.content, display=False, line=line))
            elif t == "math_inline_double":  # $$...$$ inside a paragraph
                tree.add(self.math(tok.content, display=True, line=line, in_paragraph=True))
            elif t == "softbreak":
                tree.data("\n")
            elif t == "hardbreak":
                tree.add(c.Element("br"))
            elif t == "html_inline":
                sanitize_into(tok.content, tree, lambda src: self.image(src, line))
            elif t == "image":
                name = self.image(str(tok.attrs.get("src", "")), line)
                alt = tok.content or ""
                if name:
                    tree.add(c.Element("img", (), (("src", name), ("alt", alt))))
                else:
                    tree.data(f"[{alt}]")
            elif t == "link_open":
                href = str(tok.attrs.get("href", ""))
                safe = href.strip().lower().startswith(("http://", "https://", "mailto:", "#"))
                tree.start("a", [("href", href)] if safe else [])
            elif t.endswith("_open"):
                tree.start(tok.tag, [])
            elif t.endswith("_close"):
                tree.end(tok.tag)

    def code_inline(self, code: str, line: int, tree: _Tree) -> None:
        from deckgen.answers import INLINE_CELL

        m = INLINE_CELL.match(code)
        if m and self.ctx.outputs is not None:  # only answers have cells
            cell_id, result = self.ctx.outputs.take(m.group(1))
            value = str((result or {}).get("value", ""))
            self.computed_text(value, line)
            tree.add(c.Value(cell_id, value))
        elif (blank := BLANK_MARK.fullmatch(code)) is not None:  # `[...]`: the span's look
            tree.add(c.Element("code", (c.Blank(int(blank.group(1))),)))
        else:
            tree.add(c.Code(code))


def _truthy(value: str) -> bool:
    return value.strip().lower() not in ("false", "no", "0", "off")


def compose(markdown: str, ctx: ComposeContext) -> c.Content:
    """One piece of bank Markdown as a block of content."""
    return (c.Block(ctx.loc, _Composer(ctx).compose(markdown)),)


def compose_inline(markdown: str, ctx: ComposeContext) -> c.Content:
    """A short piece (a cloze fill, a choice), without a surrounding paragraph."""
    return _Composer(ctx).inline_markdown(markdown)
