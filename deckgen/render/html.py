"""Markdown -> card HTML: MathJax delimiters, Pygments classes, safe HTML, media, cell outputs.

Used for every field of the Anki notes and the JSON list. Math is emitted as ``\\(...\\)`` and
``\\[...\\]`` (the only delimiters Anki's MathJax reads), HTML-escaped and never inside code.
Literal ``{{``/``}}`` are written as character references so they can never open or close a
cloze; cloze markers are put in only by :func:`fill_blanks`.

Math is inert (``deckgen.render.sanitize``): every formula, computed values and cell outputs
included, is written with its links, styles and definitions shown as text; ``\\(`` and ``\\[``
in text cannot start a formula; Anki's ``[latex]`` and ``[sound:`` markup shows as text. What
a bank's own text holds is reported when the bank is gathered (``unsafe_latex``); what cells
computed is reported here, at the answer's line.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markdown_it.token import Token
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

from deckgen.errors import Diagnostic, Location, Severity
from deckgen.markdown import parser
from deckgen.media import MediaStore
from deckgen.render.sanitize import (_BROKEN_BACKSLASH, ANKI_MARKUP_MESSAGE,
                                     TEXT_FORMULA_MESSAGE, UNSAFE_LATEX, anki_markup_in,
                                     formula_message, inert_anki_markup, inert_tex,
                                     inert_text, protect_braces, sanitize, text_formula_in,
                                     too_complex)

if TYPE_CHECKING:
    from deckgen.model import Cell

BLANK_MARK = re.compile("\ue000(\\d+)\ue001")
_DROP_OPEN = re.compile(r"<(script|style|iframe|object|embed|noscript|template|svg|math|form|"
                        r"textarea|select|button|title)\b", re.IGNORECASE)
_EQUATION_ENV = re.compile(r"\\(begin|end)\{(equation|align|gather)(\*?)\}")


@dataclass
class Outputs:
    """Results of an answer's cells, handed to each cell as the renderer meets it.

    ``cells`` are the cells the results belong to (``deckgen.answers.scan``, in document
    order). A result goes only to the cell whose code it was computed from, whatever order
    the renderer meets the cells in (a cloze's fills are rendered before the cells above
    them): the first result not yet given out whose cell has that code. A cell with no
    result (it failed, or was not computed) gets none; a cell the scan did not see gets none
    and is named in ``mismatched``; never another cell's output."""

    items: list[dict[str, Any]]
    cells: list[Cell] | None = None
    position: int = 0
    mismatched: list[str] = field(default_factory=list)
    _given: set[int] = field(default_factory=set)

    def next(self, code: str | None = None) -> dict[str, Any] | None:
        if self.cells is None or code is None:  # by position (no cells known)
            while self.position in self._given:
                self.position += 1
            if self.position >= len(self.items):
                return None
            self._given.add(self.position)
            self.position += 1
            return self.items[self.position - 1]
        wanted = code.strip()
        mine = [i for i, cell in enumerate(self.cells) if cell.code.strip() == wanted]
        for i in mine:
            if i not in self._given and i < len(self.items):
                self._given.add(i)
                return self.items[i]
        if not mine:  # a cell the scan did not see: nothing of another cell goes to it
            self.mismatched.append(wanted[:40])
        return None  # (or its cell has no result: it failed, or was not computed)


@dataclass
class RenderContext:
    """What a piece of Markdown needs to become card HTML."""

    media: MediaStore
    base: Path
    """Directory that relative image paths start from."""
    loc: Location
    """Where this Markdown starts (for diagnostics)."""
    outputs: Outputs | None = None
    """Cell results; None when the Markdown may not contain cells (question text)."""
    diagnostics: list[Diagnostic] = field(default_factory=list)


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


def _closed_for_mathjax(tex: str) -> str:
    """``tex`` ending so that MathJax's search for the closing delimiter stops at deckgen's.

    That search skips a backslash and the character after it, and passes over a closing
    delimiter while a ``{`` is open: a formula ending in a lone ``\\``, or with a ``{`` never
    closed, would run on into the text after it (up to a ``\\)`` there) and typeset that text
    unchecked. Such a formula (broken TeX anyway) gets a space, and the missing ``}``."""
    depth, i, n = 0, 0, len(tex)
    while i < n:
        c = tex[i]
        if c == "\\" and i + 1 < n and tex[i + 1] != "\n":
            i += 2
            continue
        if c == "\\":  # a lone backslash: at the end, it would take deckgen's
            if i + 1 == n:
                tex += " "
        elif c == "{":
            depth += 1
        elif c == "}" and depth:
            depth -= 1
        i += 1
    return tex + "}" * depth


def math_html(tex: str, display: bool) -> str:
    """A formula for Anki's MathJax, made inert (``sanitize.inert_tex``); one too long or too
    deeply nested for MathJax (``sanitize.too_complex``) is shown as its source, as text."""
    if too_complex(tex):
        shown = text_html(tex.strip())
        return f'<pre class="tex">{shown}</pre>' if display else f'<code class="tex">{shown}</code>'
    tex = inert_tex(tex.strip())[0]
    if display:
        # \begin{equation} cannot sit inside \[...\]; the tag (if any) stays.
        tex = _EQUATION_ENV.sub(lambda m: "" if m.group(2) == "equation" else
                                rf"\{m.group(1)}{{{m.group(2)}ed}}", tex).strip()
        tex = _closed_for_mathjax(tex)
        return f'<div class="math">\\[{html.escape(tex, quote=False)}\\]</div>'
    tex = _closed_for_mathjax(tex)
    return f"\\({html.escape(tex, quote=False)}\\)"


_protect_braces = protect_braces


def text_html(text: str) -> str:
    """Plain text (a figure's caption, say) as inert card HTML: escaped, with no cloze
    syntax, no formula delimiter and no Anki markup left to act on."""
    return inert_anki_markup(inert_text(protect_braces(html.escape(text, quote=False))))


def attribute_html(text: str) -> str:
    """Plain text as an attribute value (an image's alt text): escaped, no cloze syntax."""
    return inert_anki_markup(protect_braces(html.escape(text, quote=True)))


def _join(parts) -> str:
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


class _Renderer:
    def __init__(self, ctx: RenderContext):
        self.ctx = ctx
        self.md = parser()

    def render(self, markdown: str) -> str:
        tokens = self.md.parse(markdown)
        return inert_anki_markup(_join(self.block(tokens)))

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

    def block(self, tokens: list[Token]) -> Iterator[str]:
        line = 0
        for tok in tokens:
            if tok.map:
                line = tok.map[0]
            t = tok.type
            if t == "inline":
                yield self.inline(tok.children or [], line)
            elif t == "fence":
                yield self.fence(tok, line)
            elif t == "code_block":
                yield code_html(tok.content, "text")
            elif t in ("math_block", "math_block_label"):
                yield self.math(tok.content, display=True, line=line)
            elif t == "html_block":
                yield sanitize(tok.content, self._resolver(line))
            elif t == "hr":
                yield "<hr>"
            elif t == "front_matter":
                continue
            elif t.endswith("_open") or t.endswith("_close"):
                if t in ("paragraph_open", "paragraph_close") and tok.hidden:
                    continue
                tag = tok.tag
                if t.endswith("_open"):
                    attrs = ""
                    if tag == "ol" and tok.attrs.get("start") not in (None, 1, "1"):
                        attrs = f' start="{int(tok.attrs["start"])}"'
                    if tag in ("td", "th") and tok.attrs.get("style"):
                        align = str(tok.attrs["style"]).split(":")[-1]
                        attrs = f' align="{html.escape(align)}"'
                    yield f"<{tag}{attrs}>"
                else:
                    yield f"</{tag}>"
            # unknown tokens are dropped rather than leaked as raw text

    def _resolver(self, line: int):
        def resolve(src: str) -> str | None:
            return self.image(src, line)
        return resolve

    def fence(self, tok: Token, line: int) -> str:
        from deckgen.answers import CELL_INFO

        info = (tok.info or "").strip()
        if CELL_INFO.match(info) and self.ctx.outputs is not None:
            return self.cell(tok, line)
        lang = info.split()[0] if info else ""
        return code_html(tok.content, lang)

    def cell(self, tok: Token, line: int) -> str:
        from deckgen.answers import split_cell

        code, options = split_cell(tok.content)
        result = self.ctx.outputs.next(code) if self.ctx.outputs else None
        parts = []
        if _truthy(options.get("echo", "true")):
            parts.append(code_html(code.strip("\n") + "\n", "python"))
        if result is not None and _truthy(options.get("output", "true")):
            parts.extend(self.output(o, options, line) for o in result.get("outputs", []))
        return f'<div class="cell">{"".join(parts)}</div>' if parts else ""

    def output(self, out: dict[str, Any], options: dict[str, str], line: int = 0) -> str:
        data = out.get("data", {})
        if "image/svg+xml" in data or "image/png" in data:
            if "image/svg+xml" in data:
                name = self.ctx.media.add_bytes(data["image/svg+xml"].encode(), ".svg")
            else:
                import base64
                name = self.ctx.media.add_bytes(base64.b64decode(data["image/png"]), ".png")
            alt = html.escape(options.get("fig-alt") or options.get("fig-cap") or
                              options.get("label") or "plot", quote=True)
            cap = options.get("fig-cap")
            caption = f"<figcaption>{self.inline_markdown(cap, line)}</figcaption>" if cap \
                else ""
            return f'<figure class="output plot"><img src="{name}" alt="{alt}">{caption}</figure>'
        if "text/latex" in data:
            tex = data["text/latex"].strip().strip("$")
            found = inert_tex(tex)[1]
            if found:
                self.warn(line, formula_message(tex, found))
            return f'<div class="output">{math_html(tex, display=True)}</div>'
        text = data.get("text/plain", "")
        if not text:
            return ""
        if anki_markup_in(text):  # (MathJax leaves <pre> alone)
            self.warn(line, ANKI_MARKUP_MESSAGE)
        return f'<pre class="output">{_protect_braces(html.escape(text, quote=False))}</pre>'

    def math(self, tex: str, display: bool, line: int = 0) -> str:
        """A formula, with its inline ``{python}`` values put in (they are LaTeX already).

        A command the values bring in (that the formula as written does not have, which is
        reported when the bank is gathered) is warned about here."""
        from deckgen.answers import IN_MATH

        if self.ctx.outputs is None:  # question text: no cells, show as written
            return math_html(tex, display)
        values = 0

        def value(m: re.Match[str]) -> str:
            nonlocal values
            values += 1
            result = self.ctx.outputs.next(m.group(1)) if self.ctx.outputs else None
            return str((result or {}).get("value", r"\text{?}"))
        full = IN_MATH.sub(value, tex)
        if values:
            found = inert_tex(full)[1]
            written = inert_tex(IN_MATH.sub(" ", tex))[1]
            if len(found) > len(written):
                self.warn(line, formula_message(full, found))
        return math_html(full, display)

    def inline_markdown(self, text: str, line: int = 0) -> str:
        tokens = self.md.parseInline(text)
        return self.inline(tokens[0].children or [], line) if tokens else ""

    def inline(self, children: list[Token], line: int) -> str:
        out = []
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
                out.append(inert_text(_protect_braces(html.escape(tok.content, quote=False))))
            elif t == "code_inline":
                from deckgen.answers import INLINE_CELL

                m = INLINE_CELL.match(tok.content)
                if m and self.ctx.outputs is not None:  # only answers have cells
                    result = self.ctx.outputs.next(m.group(1)) if self.ctx.outputs else None
                    value = str((result or {}).get("value", ""))
                    self.computed_text(value, line)
                    out.append(inert_text(_protect_braces(html.escape(value, quote=False))))
                else:
                    out.append("<code>" + _protect_braces(html.escape(tok.content, quote=False))
                               + "</code>")
            elif t == "math_inline":
                out.append(_protect_braces(self.math(tok.content, display=False, line=line)))
            elif t == "math_inline_double":  # $$...$$ inside a paragraph: no <div> in a <p>
                formula = self.math(tok.content, display=True, line=line)
                out.append(_protect_braces(formula.removeprefix('<div class="math">')
                                           .removesuffix("</div>")))
            elif t == "softbreak":
                out.append("\n")
            elif t == "hardbreak":
                out.append("<br>")
            elif t == "html_inline":
                out.append(sanitize(tok.content, lambda s: self.image(s, line)))
            elif t == "image":
                src = str(tok.attrs.get("src", ""))
                name = self.image(src, line)
                alt = html.escape(tok.content or "", quote=True)
                out.append(f'<img src="{name}" alt="{alt}">' if name else f"[{alt}]")
            elif t == "link_open":
                href = str(tok.attrs.get("href", ""))
                safe = href.strip().lower().startswith(("http://", "https://", "mailto:", "#"))
                out.append(f'<a href="{html.escape(href, quote=True)}">' if safe else "<a>")
            elif t == "link_close":
                out.append("</a>")
            elif t.endswith("_open"):
                out.append(f"<{tok.tag}>")
            elif t.endswith("_close"):
                out.append(f"</{tok.tag}>")
        return _join(out)


def _truthy(value: str) -> bool:
    return value.strip().lower() not in ("false", "no", "0", "off")


def render_markdown(markdown: str, ctx: RenderContext) -> str:
    """Render one piece of bank Markdown to card HTML."""
    return _Renderer(ctx).render(markdown)


def render_inline(markdown: str, ctx: RenderContext) -> str:
    """Render a short piece (a cloze fill, a choice) without a surrounding ``<p>``."""
    return inert_anki_markup(_Renderer(ctx).inline_markdown(markdown))


def fill_blanks(rendered: str, fills: list[str]) -> str:
    """Replace blank placeholders with cloze deletions ``{{cN::fill}}``.

    These are the only cloze syntax the field has: any ``{{``/``}}`` already in ``rendered``
    (from raw HTML, a figure's caption, code or a formula) is written with a character
    reference first, and a fill's ``{{`` too (Anki reads nested deletions). A fill's ``}}``
    (also its last ``}`` next to the closing ``}}``) and ``::`` would end the deletion early or
    start a hint; they are spaced apart, which TeX and readers ignore.

    Blanks with the same fill share the first one's deletion (Q27's two blanks that are both
    "one"): a card asking one of them would show the other's text, its own answer. The later
    numbers are kept as they are, so the other blanks keep their cards (and their history).
    """
    rendered = protect_braces(rendered)
    first: dict[str, int] = {}
    for i, fill in enumerate(fills, start=1):
        first.setdefault(" ".join(fill.split()).casefold(), i)

    def sub(m: re.Match[str]) -> str:
        n = int(m.group(1))
        fill = fills[n - 1] if n - 1 < len(fills) else "?"
        n = first.get(" ".join(fill.split()).casefold(), n)
        fill = fill.replace("{{", "{&#123;").replace("}}", "} }").replace("::", ": :")
        if fill.endswith("}"):
            fill += " "  # "...}" + "}}" would close the deletion one brace early
        return "{{c%d::%s}}" % (n, fill)
    return BLANK_MARK.sub(sub, rendered)
