"""Card content as plain text: for a printed card Typst cannot set, and for outputs that carry
no HTML (``[csv] html = false``). A helper of renderers, not one itself."""

from __future__ import annotations

import re
from collections.abc import Callable

from deckgen import content as c
from deckgen.render.sanitize import prepared_tex, restore_tex, too_complex

OUTPUT_PRIORITY = ("text/latex", "text/plain", "image/svg+xml", "image/png")
"""The MIME type of a cell's output the text shows, of those the output has: the first here
(the LaTeX of a value reads better as ``$$...$$`` than as its Python repr)."""

_BLOCK_TAGS = frozenset({"p", "div", "pre", "li", "ol", "ul", "table", "tr", "figure",
                         "figcaption", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr"})


class _Plain:
    """Block elements become line breaks, images their alt text, formulas their LaTeX, a
    marked option its verdict (✓, ✗), a deletion its number (front) or its fill (back)."""

    def __init__(self, side: str) -> None:
        self.side = side
        self.out: list[str] = []

    def text(self, text: str, pre: bool = False) -> None:
        self.out.append(text if pre else re.sub(r"[ \t\r\n]+", " ", text))

    def block(self, inner: Callable[[], object]) -> None:
        self.out.append("\n")
        inner()
        self.out.append("\n")

    def nodes(self, nodes: c.Content) -> None:
        for node in nodes:
            self.node(node)

    def node(self, n: c.Node) -> None:  # noqa: C901 - one case per node type
        if isinstance(n, c.Text | c.Value):
            self.text(n.text)
        elif isinstance(n, c.Element):
            self.element(n)
        elif isinstance(n, c.Block):
            self.nodes(n.children)
        elif isinstance(n, c.Verdict):
            self.block(lambda: self.nodes(n.children))
        elif isinstance(n, c.Details):
            self.text(n.summary)
            self.nodes(n.children)
        elif isinstance(n, c.Math):
            self.math(n.tex, n.display, n.in_paragraph)
        elif isinstance(n, c.Code):
            self.text(n.code)
        elif isinstance(n, c.CodeBlock):
            self.block(lambda: self.block(lambda: self.text(n.code.strip("\n") + "\n", True)))
        elif isinstance(n, c.Figure):
            if n.src is None:
                self.block(lambda: self.text(f"[{n.caption or n.alt}]"))
            else:
                self.block(lambda: self.figure(n.alt or n.caption or "image", n.caption))
        elif isinstance(n, c.Cloze) and self.side == "front":
            self.out.append(f"[{n.number}]")
        elif isinstance(n, c.Cloze):
            self.nodes(n.fill)
        elif isinstance(n, c.Blank):
            self.out.append(f"[{n.number}]")
        elif isinstance(n, c.Choices):
            self.block(lambda: self.choices(n))
        elif isinstance(n, c.Cell):
            self.block(lambda: self.cell(n))
        elif isinstance(n, c.Output):
            self.output(n)
        elif isinstance(n, c.Unanswered):
            self.block(lambda: self.text("No answer yet: write it under the question, or add "
                                         f"## {n.key} to the answers file."))

    def element(self, n: c.Element) -> None:
        if n.tag == "br":
            self.out.append("\n")
        elif n.tag == "img":
            self.out.append(f"[{n.attr('alt') or 'image'}]")
        elif n.tag in _BLOCK_TAGS:
            self.out.append("\n")
            if n.tag == "li":
                self.out.append("- ")
            if n.tag == "pre":
                self.text(c.text_of(n.children), pre=True)
            else:
                self.nodes(n.children)
            if n.tag != "li":  # list items: one a line
                self.out.append("\n")
        else:
            if n.tag in ("td", "th"):
                self.out.append("  ")
            self.nodes(n.children)

    def math(self, tex: str, display: bool, in_paragraph: bool = False) -> None:
        if too_complex(tex):
            if display:
                self.block(lambda: self.text(tex.strip(), pre=True))
            else:
                self.text(tex.strip())
            return
        shown = restore_tex(prepared_tex(tex, display))
        if not display:
            self.text(f"${shown}$")
        elif in_paragraph:
            self.text(f"$${shown}$$")
        else:
            self.block(lambda: self.text(f"$${shown}$$"))

    def figure(self, alt: str, caption: str | c.Content) -> None:
        self.out.append(f"[{alt}]")
        if caption:
            self.block(lambda: self.text(caption) if isinstance(caption, str)
                       else self.nodes(caption))

    def choices(self, n: c.Choices) -> None:
        for item in n.items:
            self.out.append("\n")
            self.out.append("- " if item.correct is None else
                            "\u2713 " if item.correct else "\u2717 ")
            self.nodes(item.children)

    def cell(self, n: c.Cell) -> None:
        if n.code is not None:
            self.node(c.CodeBlock(n.code, "python"))
        self.nodes(n.outputs)

    def output(self, n: c.Output) -> None:
        chosen = n.choose(OUTPUT_PRIORITY)
        if chosen is None:
            return
        mime, value = chosen
        if mime.startswith("image/"):
            self.block(lambda: self.figure(n.alt or "image", n.caption))
        elif mime == "text/latex":
            self.block(lambda: self.math(c.latex_formula(value), True))
        elif value:
            self.block(lambda: self.text(value, pre=True))


def to_plain(content: c.Content, side: str) -> str:
    """Content as plain text; ``side`` 'front' shows a deletion as its number, 'back' its
    fill."""
    conv = _Plain(side)
    conv.nodes(content)
    lines = [line.rstrip() for line in "".join(conv.out).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
