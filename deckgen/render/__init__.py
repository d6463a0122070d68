"""Renderers: each turns a Deck into one output file. They see cards, never tokens."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from deckgen.atomic import Staging
from deckgen.model import Deck


class Renderer(Protocol):
    suffix: str
    """File name suffix, e.g. ``.apkg``."""

    def __call__(self, deck: Deck, path: Path, staging: Staging, options: dict) -> None:
        """Stage the output for ``path`` (and any companion file) in ``staging``."""
        ...


def registry() -> dict[str, Callable[[], Renderer]]:
    """Format name -> factory (imported lazily so ``--help`` stays fast)."""
    def anki() -> Renderer:
        from deckgen.render.anki import AnkiRenderer
        return AnkiRenderer()

    def json_list() -> Renderer:
        from deckgen.render.jsonlist import JsonRenderer
        return JsonRenderer()

    def pdf() -> Renderer:
        from deckgen.render.pdf import PdfRenderer
        return PdfRenderer()

    return {"apkg": anki, "json": json_list, "pdf": pdf}
