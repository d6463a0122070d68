"""Bank text -> inert card text: raw HTML reduced to a safe subset (no scripts, handlers,
styles or javascript: URLs), and formulas and text that Anki or its MathJax would act on
(links, styles and macro definitions in a formula, ``\\(`` outside one, cloze syntax,
``[latex]``) made to show as text.

Anki's MathJax (``ts/mathjax/index.ts`` in Anki) loads ``html`` (``\\href``, ``\\style``,
``\\class``, ``\\cssId``, ``\\data``) through ``autoload``, and ``newcommand``,
``require``, ``mathtools`` and ``ams`` outright; macros one formula defines stay defined for
every formula typeset after it on the page. A formula is therefore never passed on with such a
command in it: the command is written as ``\\backslash\\mathtt{name}``, so MathJax shows
``\\name`` as text and then typesets its arguments as plain math.
"""

from __future__ import annotations

import functools

import html
import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from deckgen.errors import Diagnostic, Location

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "center", "code", "dd", "del", "details",
    "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u",
    "ul", "var",
}
VOID_TAGS = {"br", "hr", "img"}
# Elements dropped together with everything inside them.
DROP_CONTENT = {"script", "style", "iframe", "object", "embed", "noscript", "template", "svg",
                "math", "form", "textarea", "select", "button", "head", "title"}
ALLOWED_ATTRS = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align"},
    "ol": {"start"},
    "*": {"class"},
}
SAFE_SCHEMES = ("http://", "https://", "mailto:", "#")

ImageResolver = Callable[[str], "str | None"]


class HtmlSink(Protocol):
    """What the allowed subset of some HTML is handed to, tag by tag."""

    def start(self, tag: str, attrs: list[tuple[str, str]]) -> None: ...
    def end(self, tag: str) -> None: ...
    def data(self, text: str) -> None: ...


class _Sanitizer(HTMLParser):
    def __init__(self, resolve_image: ImageResolver | None, sink: HtmlSink) -> None:
        super().__init__(convert_charrefs=True)
        self.sink = sink
        self.skip = 0
        self.resolve_image = resolve_image

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, self_closing=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, self_closing=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], self_closing: bool) -> None:
        if tag in DROP_CONTENT:
            if not self_closing and tag not in VOID_TAGS:
                self.skip += 1
            return
        if self.skip or tag not in ALLOWED_TAGS:
            return
        allowed = ALLOWED_ATTRS.get(tag, set()) | ALLOWED_ATTRS["*"]
        kept = []
        for name, value in attrs:
            value = value or ""
            if name not in allowed:
                continue
            if name == "href" and not value.strip().lower().startswith(SAFE_SCHEMES):
                continue
            if name == "src":
                resolved = self.resolve_image(value) if self.resolve_image else None
                if resolved is None:
                    return  # an image we cannot (or may not) show is left out
                value = resolved
            kept.append((name, value))
        self.sink.start(tag, kept)

    def handle_endtag(self, tag: str) -> None:
        if tag in DROP_CONTENT:
            self.skip = max(0, self.skip - 1)
            return
        if not self.skip and tag in ALLOWED_TAGS and tag not in VOID_TAGS:
            self.sink.end(tag)

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.sink.data(data)


def sanitize_into(fragment: str, sink: HtmlSink,
                  resolve_image: ImageResolver | None = None) -> None:
    """Hand ``sink`` the allow-listed tags, attributes and the text of ``fragment``: no
    other tag, nothing inside a script, style and the like, no ``href`` but http(s), mailto
    and fragment links, no image ``resolve_image`` does not name (it maps an ``<img src>``
    to the media file name to use, or None to leave the image out)."""
    s = _Sanitizer(resolve_image, sink)
    s.feed(fragment)
    s.close()


class _HtmlText:
    def __init__(self) -> None:
        self.out: list[str] = []

    def start(self, tag: str, attrs: list[tuple[str, str]]) -> None:
        kept = "".join(f' {name}="{html.escape(value, quote=True)}"' for name, value in attrs)
        self.out.append(f"<{tag}{kept}>")

    def end(self, tag: str) -> None:
        self.out.append(f"</{tag}>")

    def data(self, text: str) -> None:
        self.out.append(html.escape(text, quote=False))


def sanitize(fragment: str, resolve_image: ImageResolver | None = None) -> str:
    """Keep only allow-listed tags and attributes; text is re-escaped (``sanitize_into``)."""
    sink = _HtmlText()
    sanitize_into(fragment, sink, resolve_image)
    # after joining: a tag left out may have put "\\" and "(" side by side
    return inert_anki_markup(_inert_text_of_html(protect_braces("".join(sink.out))))


# -- cloze syntax and Anki's own markup ----------------------------------------------------

_OPEN2 = re.compile(r"(?<=\{)\{")
_CLOSE2 = re.compile(r"\}(?=\})")


def protect_braces(text: str) -> str:
    """No ``{{`` or ``}}`` left: of two braces in a row, the second opening one (and the first
    closing one) becomes a character reference, so Anki reads no cloze deletion there.

    Idempotent, and it leaves the text's meaning alone (a browser, and MathJax, see the
    braces)."""
    return _OPEN2.sub("&#123;", _CLOSE2.sub("&#125;", text))


_ANKI_MARKUP = re.compile(r"\[(?=/?(?:latex|\$\$?)\]|sound:|/?anki:)", re.IGNORECASE)


def inert_anki_markup(html_text: str) -> str:
    """``[latex]``, ``[$]``, ``[$$]`` (LaTeX that Anki compiles into images on the reviewer's
    machine), ``[sound:...]`` (a file Anki plays from the collection) and ``[anki:tts ...]``
    (text Anki reads aloud) with their ``[``
    written as a character reference: Anki matches these in the field's HTML source, so they
    show as text."""
    return _ANKI_MARKUP.sub("&#91;", html_text)


def anki_markup_in(text: str) -> bool:
    return bool(_ANKI_MARKUP.search(text))


# -- formula delimiters in text ------------------------------------------------------------

_TEXT_FORMULA = re.compile(r"\\(?=[(\[])")
_TAG_OR_TEXT_FORMULA = re.compile(r"(<[^>]*>)|\\(?=[(\[])")
_BROKEN_BACKSLASH = "<span>\\</span>"


def inert_text(escaped: str) -> str:
    """HTML-escaped text with every ``\\(`` and ``\\[`` broken: Anki's MathJax would start a
    formula there (one deckgen never saw, so never made inert). The backslash goes into an
    element of its own, which ends the text MathJax searches for delimiters."""
    return _TEXT_FORMULA.sub(lambda _: _BROKEN_BACKSLASH, escaped)


def _inert_text_of_html(fragment: str) -> str:
    """``inert_text`` on the text of HTML deckgen wrote (tags and their attributes kept)."""
    return _TAG_OR_TEXT_FORMULA.sub(lambda m: m.group(1) or _BROKEN_BACKSLASH, fragment)


def text_formula_in(text: str) -> bool:
    return bool(_TEXT_FORMULA.search(text))


# -- formulas ------------------------------------------------------------------------------

UNSAFE_LATEX = "unsafe-latex"
"""The diagnostic code of everything this module makes inert in a bank's text."""

TEX_ACTIVE = frozenset({
    # html (autoloaded): a link, or HTML attributes on the typeset formula
    "href", "url", "style", "class", "cssId", "data",
    # base: \mmlToken{mi}[href=..., style=...]{x} sets the same attributes
    "mmlToken",
    # KaTeX's equivalents (and its images), for banks shown by another renderer
    "htmlClass", "htmlId", "htmlStyle", "htmlData", "includegraphics",
    # newcommand, ams, mathtools, extpfeil, color, begingroup: definitions that outlive the
    # formula, for every card after it on the page
    "def", "gdef", "edef", "xdef", "let", "futurelet", "global",
    "newcommand", "renewcommand", "providecommand", "newenvironment", "renewenvironment",
    "NewDocumentCommand", "RenewDocumentCommand", "ProvideDocumentCommand",
    "DeclareDocumentCommand", "NewDocumentEnvironment", "RenewDocumentEnvironment",
    "DeclareMathOperator", "DeclarePairedDelimiter", "DeclarePairedDelimiterX",
    "DeclarePairedDelimiterXPP", "newtagform", "renewtagform", "usetagform", "newgathered",
    "renewgathered", "Newextarrow", "definecolor",
    # require, setoptions, mathtools: extensions loaded, or MathJax's settings changed
    "require", "setOptions", "mathtoolsset",
})
"""Commands never passed on to MathJax (besides ``\\unicode`` with anything but a character
number, and ``\\bbox`` with a style in its options)."""

_CS = re.compile(r"\\([A-Za-z]+|.)", re.DOTALL)
_PLAIN_UNICODE = re.compile(r"\s*\{\s*(?:\d+|0?[xX][0-9A-Fa-f]+)\s*\}")
_STYLED_BBOX = re.compile(r"\s*\[[^\]]*[:;]")
_NEUTRAL = "\\backslash\\mathtt{%s}"
_NEUTRALISED = re.compile(r"\\backslash\\mathtt\{([A-Za-z]+)\}")


def _active(tex: str, m: re.Match[str]) -> bool:
    name = m.group(1)
    if name in TEX_ACTIVE:
        return True
    if name == "unicode":
        return not _PLAIN_UNICODE.match(tex, m.end())
    if name == "bbox":
        return bool(_STYLED_BBOX.match(tex, m.end()))
    return False


MAX_FORMULA = 5000
"""Characters of one formula past which it is printed as its source, unconverted."""
MAX_FORMULA_DEPTH = 12
"""Groups (``{...}``, ``\\left...\\right``) nested in one formula past which, likewise
(tex2typst's time doubles with each level: 0.06 s at 12, minutes at 30)."""


def too_complex(tex: str) -> bool:
    """Whether a formula is too long or too deeply nested to hand to the converters (they
    recurse, and some take time exponential in the depth), nor to Anki's MathJax (on a phone
    it would hang the reviewer): no real formula comes near."""
    if len(tex) > MAX_FORMULA:
        return True
    depth = deepest = 0
    for m in re.finditer(r"\\left\b|\\right\b|\\[{}]|[{}]", tex):
        token = m.group()
        if token in ("{", "\\left"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in ("}", "\\right"):
            depth = max(depth - 1, 0)
    return deepest > MAX_FORMULA_DEPTH


def inert_tex(tex: str) -> tuple[str, list[str]]:
    """``tex`` with every command that could make the formula a link, style or script the
    card, or change other formulas (``TEX_ACTIVE``) written as ``\\backslash\\mathtt{name}``;
    and those commands (``\\href``, ...), in order. A formula without one is returned as is.
    """
    out: list[str] = []
    found: list[str] = []
    pos = 0
    for m in _CS.finditer(tex):  # "\\\\" is one token: "\\\\href" is no command
        if _active(tex, m):
            out += [tex[pos:m.start()], _NEUTRAL % m.group(1)]
            found.append("\\" + m.group(1))
            pos = m.end()
    if not found:
        return tex, []
    out.append(tex[pos:])
    return "".join(out), found


def restore_tex(tex: str) -> str:
    """A formula from ``inert_tex`` as its author wrote it: for the printed card, which shows
    such a formula as its LaTeX source (``deckgen.render.typst_markup`` never typesets one)."""
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        return "\\" + name if name in TEX_ACTIVE or name in ("unicode", "bbox") else m.group(0)
    return _NEUTRALISED.sub(sub, tex)


def _short(text: str) -> str:
    short = " ".join(text.split())
    return short if len(short) <= 80 else short[:77] + "..."


def formula_message(tex: str, commands: list[str]) -> str:
    """The warning for a formula that uses ``commands`` (from ``inert_tex``)."""
    names = ", ".join(dict.fromkeys(commands))
    return (f"formula '{_short(tex)}' uses {names}: in Anki a formula could link (javascript: "
            "included), style the card or redefine commands for the other cards with it; "
            "shown as text instead")


TEXT_FORMULA_MESSAGE = ("'\\(' or '\\[' outside a formula would start one in Anki that deckgen "
                        "cannot check; shown as text (write $...$ for a formula)")
ANKI_MARKUP_MESSAGE = ("'[latex]', '[$]' or '[sound:' would make Anki compile LaTeX on the "
                       "reviewer's machine or play a file of the collection; shown as text")


# every warning of unsafe_latex needs one of these in the text (a TeX command, an HTML
# entity that could spell a backslash, or Anki's own [latex]/[$]/[sound:] markup)
_MAYBE_UNSAFE = re.compile(r"\\|&|\[(?:latex|\$|sound:)", re.IGNORECASE)


def unsafe_latex(markdown: str, loc: Location) -> list[Diagnostic]:
    """A warning (``unsafe-latex``, at the line of ``loc`` plus the line within ``markdown``)
    for everything in this piece of bank Markdown that the cards show as text rather than let
    Anki act on: each formula with a command of ``TEX_ACTIVE`` (also in a cell's ``fig-cap``),
    ``\\(`` or ``\\[`` in text or raw HTML, Anki's ``[latex]`` and ``[sound:`` markup.

    What comes from cells (an inline ``{python}`` value, a cell's output) is known only once
    the cells ran: the renderer warns about that (``deckgen.render.html``)."""
    if not _MAYBE_UNSAFE.search(markdown) and len(markdown) <= MAX_FORMULA:
        return []  # no backslash, entity or Anki markup: nothing to warn about, no parse
    from deckgen.answers import IN_MATH, split_cell
    from deckgen.errors import Diagnostic, Location, Severity
    from deckgen.markdown import parser

    out: list[Diagnostic] = []

    def warn(line: int, message: str) -> None:
        d = Diagnostic(Location(loc.path, loc.line + line), message, UNSAFE_LATEX,
                       Severity.WARNING)
        if d not in out:
            out.append(d)

    def formula(tex: str, line: int) -> None:
        tex = IN_MATH.sub(" ", tex)  # an inline value's code is Python, not TeX
        if too_complex(tex):
            warn(line, f"formula of {len(tex):,} characters, or nested more than "
                       f"{MAX_FORMULA_DEPTH} groups deep: the cards show it as its source")
            return
        found = inert_tex(tex)[1]
        if found:
            warn(line, formula_message(tex, found))

    def text(content: str, line: int) -> None:
        if text_formula_in(content):
            warn(line, TEXT_FORMULA_MESSAGE)
        if anki_markup_in(content):
            warn(line, ANKI_MARKUP_MESSAGE)

    def inline(children, line: int) -> None:
        for child in children:
            if child.type in ("math_inline", "math_inline_double"):
                formula(child.content, line)
            elif child.type == "text":
                text(child.content, line)
            elif child.type == "html_inline":
                text(html.unescape(child.content), line)
            elif child.type == "image":
                inline(child.children or [], line)

    md = parser()
    line = 0
    for tok in md.parse(markdown):
        if tok.map:
            line = tok.map[0]
        if tok.type in ("math_block", "math_block_label"):
            formula(tok.content, line)
        elif tok.type == "html_block":
            text(html.unescape(tok.content), line)
        elif tok.type == "inline":
            inline(tok.children or [], line)
        elif tok.type == "fence" and (tok.info or "").strip().startswith("{python}"):
            cap = split_cell(tok.content)[1].get("fig-cap")
            if cap:
                for t in md.parseInline(cap):
                    inline(t.children or [], line)
    return out


def unsafe_latex_in_bank(bank) -> list[Diagnostic]:
    """``unsafe_latex`` over every piece of a bank's text a card shows: question stems and
    parts, figure captions, options, answers (as gathered: ``deckgen.pipeline.gather``)."""
    from deckgen.errors import Diagnostic, Severity
    from deckgen.model import Figure, Text

    out: list[Diagnostic] = []
    for q in bank.questions:
        blocks = list(q.stem) + [b for p in q.parts for b in p.body]
        for fig in (b for b in blocks if isinstance(b, Figure)):  # its caption is text
            for found, message in ((text_formula_in(fig.caption), TEXT_FORMULA_MESSAGE),
                                   (anki_markup_in(fig.caption + fig.alt),
                                    ANKI_MARKUP_MESSAGE)):
                d = Diagnostic(fig.loc, message, UNSAFE_LATEX, Severity.WARNING)
                if found and d not in out:
                    out.append(d)
        pieces = [(b.markdown, b.loc) for b in q.stem if isinstance(b, Text)]
        for p in q.parts:
            pieces += [(b.markdown, b.loc) for b in p.body if isinstance(b, Text)]
            pieces += [(c.markdown, c.loc) for c in p.choices]
            if p.answer is not None:
                pieces.append((p.answer.markdown, p.answer.loc))
        for markdown, loc in pieces:
            out.extend(d for d in _unsafe_latex_remembered(markdown, loc) if d not in out)
    return out


@functools.lru_cache(maxsize=4096)
def _unsafe_latex_remembered(markdown: str, loc: Location) -> tuple[Diagnostic, ...]:
    # the same text at the same place gives the same warnings (deckgen watch rebuilds often)
    return tuple(unsafe_latex(markdown, loc))


# -- a formula as it is handed on -------------------------------------------------------------

_EQUATION_ENV = re.compile(r"\\(begin|end)\{(equation|align|gather)(\*?)\}")


def _closed_for_mathjax(tex: str) -> str:
    """``tex`` ending so that MathJax's search for the closing delimiter stops at deckgen's.

    That search skips a backslash and the character after it, and passes over a closing
    delimiter while a ``{`` is open: a formula ending in a lone ``\\``, or with a ``{`` never
    closed, would run on into the text after it (up to a ``\\)`` there) and typeset that text
    unchecked. Such a formula (broken TeX anyway) gets a space, and the missing ``}``."""
    depth, i, n = 0, 0, len(tex)
    while i < n:
        ch = tex[i]
        if ch == "\\" and i + 1 < n and tex[i + 1] != "\n":
            i += 2
            continue
        if ch == "\\":  # a lone backslash: at the end, it would take deckgen's
            if i + 1 == n:
                tex += " "
        elif ch == "{":
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
        i += 1
    return tex + "}" * depth


def prepared_tex(tex: str, display: bool) -> str:
    """A formula as every output hands it on: inert (``inert_tex``), a display formula
    without ``equation`` (``align`` and ``gather`` made their ``-ed`` forms, which may sit
    inside display math; a tag stays), and closed (braces, a last backslash). Call only for a
    formula that is not ``too_complex``."""
    tex = inert_tex(tex.strip())[0]
    if display:
        tex = _EQUATION_ENV.sub(lambda m: "" if m.group(2) == "equation" else
                                rf"\{m.group(1)}{{{m.group(2)}ed}}", tex).strip()
    return _closed_for_mathjax(tex)
