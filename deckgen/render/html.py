"""Card content (``deckgen.content``) -> card HTML: MathJax delimiters, Pygments classes,
inert text, cloze deletions. A helper of the outputs that carry HTML (the Anki notes, the JSON
list, the CSV's HTML fields), not an output itself.

Math is emitted as ``\\(...\\)`` and ``\\[...\\]`` (the only delimiters Anki's MathJax reads),
HTML-escaped and never inside code. Literal ``{{``/``}}`` are written as character
references so they can never open or close a cloze; cloze syntax is written only for a
:class:`~deckgen.content.Cloze`.

Math is inert (``deckgen.render.sanitize``): every formula, computed values and cell outputs
included, is written with its links, styles and definitions shown as text; ``\\(`` and ``\\[``
in text cannot start a formula; Anki's ``[latex]`` and ``[sound:`` markup shows as text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from functools import lru_cache

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

from deckgen import content as c
from deckgen.render.sanitize import (_BROKEN_BACKSLASH, inert_anki_markup, inert_text,
                                     prepared_tex, protect_braces, too_complex)

OUTPUT_PRIORITY = ("image/svg+xml", "image/png", "text/latex", "text/plain")
"""The MIME type of a cell's output a card shows, of those the output has: the first here."""


@lru_cache(maxsize=64)
def _lexer(lang: str):
    try:
        return get_lexer_by_name(lang or "text")
    except ClassNotFound:
        return TextLexer()


@lru_cache(maxsize=4096)
def code_html(code: str, lang: str) -> str:
    """Highlighted code with Pygments classes (colours live in the note type's CSS)."""
    if lang in ("c++", "cpp"):
        lang = "cpp"
    out = highlight(code, _lexer(lang), _formatter())
    # keep the language for renderers that highlight themselves (the PDF)
    safe = re.sub(r"[^\w+#-]", "", lang or "text")
    return out.replace('<div class="highlight">', f'<div class="highlight lang-{safe}">', 1)


@lru_cache(maxsize=1)
def _formatter() -> HtmlFormatter:
    return HtmlFormatter(cssclass="highlight", wrapcode=True)


def math_html(tex: str, display: bool) -> str:
    """A formula for Anki's MathJax (``sanitize.prepared_tex``); one too long or too deeply
    nested for MathJax (``sanitize.too_complex``) is shown as its source, as text."""
    if too_complex(tex):
        shown = text_html(tex.strip())
        return f'<pre class="tex">{shown}</pre>' if display else f'<code class="tex">{shown}</code>'
    tex = html.escape(prepared_tex(tex, display), quote=False)
    return f'<div class="math">\\[{tex}\\]</div>' if display else f"\\({tex}\\)"


def text_html(text: str) -> str:
    """Plain text (a figure's caption, say) as inert card HTML: escaped, with no cloze
    syntax, no formula delimiter and no Anki markup left to act on."""
    return inert_anki_markup(inert_text(protect_braces(html.escape(text, quote=False))))


def attribute_html(text: str) -> str:
    """Plain text as an attribute value (an image's alt text): escaped, no cloze syntax."""
    return inert_anki_markup(protect_braces(html.escape(text, quote=True)))


def _join(parts: Iterable[str]) -> str:
    """Rendered pieces joined, with a "\\" that ends one piece before a "(" or "[" that starts
    the next (text around a tag that was left out) broken, as ``inert_text`` does within one."""
    out: list[str] = []
    for part in parts:
        if not part:
            continue
        if out and out[-1].endswith("\\") and part[0] in "([":
            out[-1] = out[-1][:-1] + _BROKEN_BACKSLASH
        out.append(part)
    return "".join(out)


_VOID = frozenset({"br", "hr", "img"})
_CLOZE_MARK = re.compile("\x00(\\d+)\x00")


class _Html:
    """Content -> pieces of HTML; a deletion is a mark, put in by :func:`field_html`."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.clozes: list[c.Cloze] = []

    def nodes(self, nodes: c.Content) -> None:
        for node in nodes:
            self.node(node)

    def node(self, n: c.Node) -> None:  # noqa: C901 - one case per node type
        out = self.out
        if isinstance(n, c.Text | c.Value):
            out.append(inert_text(protect_braces(html.escape(n.text.replace("\x00", ""),
                                                             quote=False))))
        elif isinstance(n, c.Element):
            attrs = "".join(f' {k}="{html.escape(v, quote=True)}"' for k, v in n.attrs)
            out.append(f"<{n.tag}{protect_braces(attrs)}>")
            if n.tag not in _VOID:
                self.nodes(n.children)
                out.append(f"</{n.tag}>")
        elif isinstance(n, c.Block):
            self.nodes(n.children)
        elif isinstance(n, c.Math):
            formula = math_html(n.tex, n.display)
            if n.in_paragraph:  # no <div> inside a <p>
                formula = formula.removeprefix('<div class="math">').removesuffix("</div>")
            out.append(formula if n.display and not n.in_paragraph else protect_braces(formula))
        elif isinstance(n, c.Code):
            out.append(f"<code>{protect_braces(html.escape(n.code, quote=False))}</code>")
        elif isinstance(n, c.CodeBlock):
            out.append(code_html(n.code, n.lang))
        elif isinstance(n, c.Figure):
            out.append(figure_html(n))
        elif isinstance(n, c.Cloze):
            out.append(f"\x00{len(self.clozes)}\x00")
            self.clozes.append(n)
        elif isinstance(n, c.Blank):
            out.append("[...]")
        elif isinstance(n, c.Choices):
            self.choices(n)
        elif isinstance(n, c.Verdict):
            out.append(f'<div class="verdict {html.escape(n.value)}">')
            self.nodes(n.children)
            out.append("</div>")
        elif isinstance(n, c.Cell):
            inner = _Html()
            if n.code is not None:
                inner.out.append(code_html(n.code.strip("\n") + "\n", "python"))
            inner.nodes(n.outputs)
            if inner.out:
                out += ['<div class="cell">', *inner.out, "</div>"]
        elif isinstance(n, c.Output):
            self.output(n)
        elif isinstance(n, c.Details):
            out.append(f'<details class="{n.kind}" open><summary>{text_html(n.summary)}'
                       "</summary>")
            self.nodes(n.children)
            out.append("</details>")
        elif isinstance(n, c.Unanswered):
            out.append('<div class="unanswered">No answer yet: write it under the question, '
                       f"or add <code>## {text_html(n.key)}</code> to the answers file.</div>")

    def choices(self, n: c.Choices) -> None:
        # the question's own list is "ask": the answer side shows the marked list instead
        self.out.append(f'<ol class="{"choices" if n.marked else "choices ask"}">')
        for item in n.items:
            cls = "" if item.correct is None else \
                ' class="correct"' if item.correct else ' class="wrong"'
            self.out.append(f"<li{cls}>{inline_html(item.children)}</li>")
        self.out.append("</ol>")

    def output(self, n: c.Output) -> None:
        chosen = n.choose(OUTPUT_PRIORITY)
        if chosen is None:
            return
        mime, value = chosen
        if mime.startswith("image/"):
            alt = html.escape(n.alt, quote=True)
            cap = f"<figcaption>{inline_html(n.caption)}</figcaption>" if n.caption else ""
            self.out.append(f'<figure class="output plot"><img src="{value}" alt="{alt}">'
                            f"{cap}</figure>")
        elif mime == "text/latex":
            tex = c.latex_formula(value)
            self.out.append(f'<div class="output">{math_html(tex, display=True)}</div>')
        elif value:
            self.out.append('<pre class="output">'
                            f"{protect_braces(html.escape(value, quote=False))}</pre>")


def figure_html(fig: c.Figure) -> str:
    if fig.src is None:
        return f'<div class="figure missing">[{text_html(fig.caption or fig.alt)}]</div>'
    alt = attribute_html(fig.alt or fig.caption)
    cap = f"<figcaption>{text_html(fig.caption)}</figcaption>" if fig.caption else ""
    return f'<figure class="figure"><img src="{fig.src}" alt="{alt}">{cap}</figure>'


def inline_html(content: c.Content) -> str:
    """HTML of a short piece (a fill, an option, a caption)."""
    r = _Html()
    r.nodes(content)
    return inert_anki_markup(_join(r.out))


@lru_cache(maxsize=8192)
def field_html(content: c.Content) -> str:
    """A card field: the content's HTML, with its deletions as Anki's ``{{cN::fill}}``.

    Those are the only cloze syntax the field has: any ``{{``/``}}`` from the bank or a cell
    is written with a character reference first, and a fill's ``{{`` too (Anki reads nested
    deletions). A fill's ``}}`` (also its last ``}`` next to the closing ``}}``) and ``::``
    would end the deletion early or start a hint; they are spaced apart, which TeX and
    readers ignore."""
    r = _Html()
    r.nodes(content)
    out = inert_anki_markup(_join(r.out))
    if not r.clozes:
        return out

    def cloze(m: re.Match[str]) -> str:
        node = r.clozes[int(m.group(1))]
        fill = inline_html(node.fill)
        fill = fill.replace("{{", "{&#123;").replace("}}", "} }").replace("::", ": :")
        if fill.endswith("}"):
            fill += " "  # "...}" + "}}" would close the deletion one brace early
        return "{{c%d::%s}}" % (node.number, fill)
    return _CLOZE_MARK.sub(cloze, protect_braces(out))


