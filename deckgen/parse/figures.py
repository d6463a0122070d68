"""Figures in HTML blocks, shared by every question style."""

from __future__ import annotations

import html
from html.parser import HTMLParser

from deckgen.errors import Location
from deckgen.model import Figure


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


def figures(content: str, loc: Location) -> list[Figure]:
    """Figures in an HTML block: each ``<img>``, captioned by the block's text cells."""
    if "<img" not in content.lower():
        return []
    finder = _FigureFinder()
    finder.feed(content)
    finder.close()
    caption = " ".join(c for c in finder.cells if c)
    return [Figure(src, html.unescape(alt), caption if len(finder.images) == 1 else alt, loc)
            for src, alt in finder.images]

