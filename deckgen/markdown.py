"""The one place that configures markdown-it-py for deckgen (parsing and rendering share it)."""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.front_matter import front_matter_plugin


@cache
def parser() -> MarkdownIt:
    """CommonMark with raw HTML, tables, ``$``/``$$`` math and front matter.

    ``maxNesting`` is raised from CommonMark's 20, past which markdown-it silently drops the
    rest of a file (ten list levels reach it), well above what deckgen.parse.limits lets a
    file nest (16 levels of lists and quotes, 48 emphasis marks in a row).

    ``allow_space=False`` makes ``$5 and $10`` plain text: an opening ``$`` must touch the
    formula and a closing one must follow a non-space, as in Pandoc.
    """
    md = MarkdownIt("commonmark", {"html": True, "maxNesting": 100})
    md.enable("table")
    md.use(front_matter_plugin)
    md.use(dollarmath_plugin, allow_labels=False, allow_space=False, allow_digits=False,
           double_inline=True)
    return md
