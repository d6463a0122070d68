"""Card HTML as plain text: for a printed card Typst cannot set, and for outputs that carry
no HTML (``[csv] html = false``). A helper of renderers, not one itself."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from deckgen.render.sanitize import restore_tex

MATH = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
"""A formula in card HTML, as MathJax reads it: ``\\(inline\\)`` or ``\\[display\\]``."""
CLOZE = re.compile(r"\{\{c(\d+)::(.*?)\}\}", re.DOTALL)
"""A cloze deletion in a card's Front: ``{{c1::fill}}``."""


_BLOCK_TAGS = frozenset({"p", "div", "pre", "li", "ol", "ul", "table", "tr", "figure",
                         "figcaption", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr"})


class _PlainText(HTMLParser):
    """Card HTML -> its text: block elements become line breaks, images their alt text,
    formulas stay as their LaTeX source."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.pre = 0

    def handle_starttag(self, tag: str, attrs_list) -> None:
        attrs = {k: v or "" for k, v in attrs_list}
        if tag in _BLOCK_TAGS or tag == "br":
            self.out.append("\n")
        if tag in ("td", "th"):
            self.out.append("  ")
        if tag == "li":  # a marked option: its verdict (see cards.choices)
            cls = attrs.get("class", "").split()
            self.out.append("\u2713 " if "correct" in cls else "\u2717 " if "wrong" in cls
                            else "- ")
        if tag == "img":
            self.out.append(f"[{attrs.get('alt') or 'image'}]")
        self.pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS and tag != "li":  # list items: one a line
            self.out.append("\n")
        if tag == "pre" and self.pre:
            self.pre -= 1

    def handle_data(self, data: str) -> None:
        self.out.append(data if self.pre else re.sub(r"[ \t\r\n]+", " ", data))


def html_to_plain(fragment: str, side: str) -> str:
    """A card field as plain text, for a card Typst cannot set: ``side`` as in html_to_typst."""
    def cloze(m: re.Match[str]) -> str:
        return f"[{m.group(1)}]" if side == "front" else m.group(2)
    def math(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return f"${restore_tex(m.group(1))}$"
        return f"$${restore_tex(m.group(2))}$$"
    conv = _PlainText()
    conv.feed(MATH.sub(math, CLOZE.sub(cloze, fragment)))
    conv.close()
    lines = [line.rstrip() for line in "".join(conv.out).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
