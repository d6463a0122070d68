"""Card content (``deckgen.content``) -> Typst markup, for the printable cards.

Text goes into Typst string literals, so no character of the bank can be read as Typst
syntax. Formulas are converted with tex2typst and each one is compile-checked on its own;
a formula that fails to convert or to compile is drawn by ziamath as SVG instead, and one
that ziamath cannot draw either (or draws as an SVG Typst cannot read) is shown as its LaTeX
source in monospace. A card Typst cannot set at all can be printed as plain text
(``deckgen.render.plain``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deckgen import trustcache
from deckgen import content as c
from deckgen.render.sanitize import inert_tex, prepared_tex, restore_tex, too_complex

_TAG = re.compile(r"\\tag\{([^}]*)\}")
_BIG_ENV = re.compile(r"\\begin\{(cases|[pbvBV]?matrix|array|aligned)\}")
_EQ_ENV = re.compile(r"\\(?:begin|end)\{(?:equation|align|gather)\*?\}")


def string(text: str) -> str:
    """A Typst string literal (inside code mode)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") \
        .replace("\r", "") + '"'


def text_markup(text: str) -> str:
    return "#" + string(text) if text else ""


MATH_FORMAT = 2
"""Bump to invalidate the converted formulas kept in the cache (``pdf/math-<N>.json``)."""
_SOURCE = "!"  # the stored "SVG name" of a formula shown as its source
MAX_MATH_CACHE_BYTES = 64 * 1024 * 1024  # a bigger cache file is a miss, never parsed
_SVG_NAME = re.compile(r"deckgen-math-[0-9a-f]{16}\.svg")


def svg_name(svg: str) -> str:
    """The file name of a fallback SVG: a hash of its content (never taken from a file)."""
    digest = hashlib.sha256(svg.encode("utf-8", "surrogatepass")).hexdigest()
    return f"deckgen-math-{digest[:16]}.svg"


def _math_fields(skey: str, markup: str, name: str, svg: str) -> tuple[str, ...]:
    """What a math cache entry's MAC covers."""
    return f"math/{MATH_FORMAT}", skey, markup, name, svg


@dataclass
class MathStats:
    native: int = 0
    fallback: int = 0
    source: int = 0
    """Occurrences of formulas shown as their LaTeX source."""
    failures: list[str] = field(default_factory=list)
    """Formulas that even the fallback could not draw (shown as source), each once."""


class MathConverter:
    """LaTeX -> Typst math, checked by compiling each formula alone; SVG fallback."""

    def __init__(self, workdir: Path, compiler_factory, cache: Path | None = None):
        self.workdir = workdir
        self.stats = MathStats()
        self._factory = compiler_factory
        self._compiler: Any = None
        self._cache: dict[tuple[str, bool], str] = {}
        self._failed: set[tuple[str, bool]] = set()
        self._shown: list[str] = []  # formulas shown as source since the last take_failures()
        # converted formulas and fallback SVGs survive between builds: checking each formula
        # costs a Typst compile, and most formulas do not change
        # (``deckgen.trustcache``: an entry counts only if this user's deckgen wrote it, so
        # a cache shipped with a bank never puts its markup on a card or names a file)
        self._root = cache
        self._disk = cache / "pdf" / f"math-{MATH_FORMAT}.json" if cache else None
        self._stored: dict[str, Any] = {}
        if self._disk is not None:
            stored = trustcache.read_json(self._disk, MAX_MATH_CACHE_BYTES)
            self._stored = stored if isinstance(stored, dict) else {}
        self._trusted: set[str] = set()  # keys of self._stored whose entry is known good
        self._dirty = False

    def __call__(self, tex: str, display: bool) -> str:
        key = (tex, display)
        if key not in self._cache:
            stored = self._entry(f"{int(display)}:{tex}")
            if stored is not None:
                markup, name, svg = stored
                if name == _SOURCE:
                    self._failed.add(key)
                    if tex not in self.stats.failures:
                        self.stats.failures.append(tex)
                elif name:  # a content hash checked by _entry, never a path
                    (self.workdir / name).write_text(svg, encoding="utf-8")
                self._cache[key] = markup
            else:
                self._cache[key] = self._convert(tex, display)
                self._remember(tex, display, self._cache[key])
        self._count(key, self._cache[key])
        return self._cache[key]

    def take_failures(self) -> list[str]:
        """The formulas shown as LaTeX source since the last call (once each, in order)."""
        out = list(dict.fromkeys(self._shown))
        self._shown.clear()
        return out

    def _entry(self, skey: str) -> tuple[str, str, str] | None:
        """The stored ``(markup, SVG name, SVG)`` of a formula, if its entry has the right
        shape, its SVG name is the hash of its SVG (or empty, or the source mark) and its MAC
        is this user's; else None (a miss: the formula is converted again)."""
        stored = self._stored.get(skey)
        if not isinstance(stored, list) or len(stored) != 4 or \
                not all(isinstance(v, str) for v in stored):
            return None
        markup, name, svg, mac = stored
        if name in ("", _SOURCE):
            if svg:
                return None
        elif not _SVG_NAME.fullmatch(name) or name != svg_name(svg):
            return None
        if not trustcache.valid_mac(mac, *_math_fields(skey, markup, name, svg)):
            return None
        self._trusted.add(skey)
        return markup, name, svg

    def _remember(self, tex: str, display: bool, markup: str) -> None:
        if self._disk is None:
            return
        skey = f"{int(display)}:{tex}"
        if (tex, display) in self._failed:
            name, svg = _SOURCE, ""
        else:
            m = re.search(r"deckgen-math-[0-9a-f]{16}\.svg", markup)
            name, svg = (m.group(0), "") if m else ("", "")
            if m:
                try:
                    svg = (self.workdir / name).read_text(encoding="utf-8")
                except (OSError, ValueError):
                    return  # not the fallback's SVG (e.g. that text in a \text{}): not kept
                if svg_name(svg) != name:
                    return
        self._stored[skey] = [markup, name, svg,
                              trustcache.mac(*_math_fields(skey, markup, name, svg))]
        self._trusted.add(skey)
        self._dirty = True

    def save(self) -> None:
        """Write the converted formulas back (when new ones were converted), leaving out the
        entries that were never this user's or were damaged."""
        if self._root is None or self._disk is None or not self._dirty:
            return
        keep = {k: v for k, v in self._stored.items()
                if k in self._trusted or (isinstance(k, str) and self._entry(k) is not None)}
        trustcache.write(self._root, self._disk, json.dumps(keep, sort_keys=True).encode())

    def _count(self, key: tuple[str, bool], markup: str) -> None:
        if key in self._failed:
            self.stats.source += 1
            self._shown.append(key[0])
        elif "deckgen-math-" in markup:
            self.stats.fallback += 1
        else:
            self.stats.native += 1

    def _convert(self, tex: str, display: bool) -> str:
        key = (tex, display)
        tex = tex.strip()
        tag = None
        m = _TAG.search(tex)
        if m:
            tag, tex = m.group(1), _TAG.sub("", tex)
        tex = _EQ_ENV.sub("", tex).strip()
        out = None
        # a formula with a link, a style or a definition (deckgen.render.sanitize) is shown
        # as its source: the Anki card shows it as text too
        if not inert_tex(tex)[1] and not too_complex(tex):
            out = self._native(tex, display)
            if out is None:
                out = self._fallback(tex, display)
        if out is None:  # the last resort: the source, as inert monospace text
            self._failed.add(key)
            if key[0] not in self.stats.failures:
                self.stats.failures.append(key[0])
            out = "#raw(" + string(tex) + ")"
        if display and tag is not None:  # the tag is text: never read as Typst markup
            out = (f"#grid(columns: (1fr, auto), align: horizon, [{out}], "
                   f"[{text_markup(f'({tag})')}])")
        return out

    def _native(self, tex: str, display: bool) -> str | None:  # noqa: D401
        """tex2typst's conversion, if it holds no Typst code (``typst_ready``, ``inert_math``)
        and compiles alone."""
        ready = typst_ready(tex)
        if ready is None:
            return None
        try:
            import tex2typst  # type: ignore[import-untyped]
            converted = tex2typst.tex2typst(ready[0])
        except Exception:  # noqa: BLE001 - any converter failure means: use the fallback
            return None
        converted = _put_texts(tighten_bars(converted.replace("\n", " ").strip()), ready[1])
        if not converted or not inert_math(converted):
            return None
        if not display and _BIG_ENV.search(tex):
            converted = f"display({converted})"  # inline cases/matrices are set too small
        markup = f"$ {converted} $" if display else f"${converted}$"
        if self._compiler is None:
            self._compiler = self._factory()
        try:
            self._compiler.compile(input=f"#set page(width: 12cm, height: auto)\n{markup}\n"
                                   .encode(), format="pdf")
        except Exception:  # noqa: BLE001 - typst.TypstError and friends
            return None
        return f"#display-math({markup})" if display else f"#fit-inline({markup})"

    def _fallback(self, tex: str, display: bool) -> str | None:
        """ziamath's SVG of the formula, or None if it cannot draw one Typst can show."""
        try:
            import ziamath
            svg = ziamath.Latex(tex, size=10, inline=not display).svg()
        except Exception:  # noqa: BLE001 - any failure: show the source instead
            return None
        name = f"deckgen-math-{hashlib.sha256(svg.encode()).hexdigest()[:16]}.svg"
        (self.workdir / name).write_text(svg, encoding="utf-8")
        # ziamath "draws" some formulas (an empty one, a \\newcommand) as an SVG of negative
        # size, which Typst refuses: checked here, or it would fail the card's whole chunk
        if self._compiler is None:
            self._compiler = self._factory()
        try:
            self._compiler.compile(input=f"#image({string('/' + name)})\n".encode(),
                                   format="pdf")
        except Exception:  # noqa: BLE001 - typst.TypstError and friends
            return None
        if display:
            return f"#display-math(image({string('/' + name)}))"
        return f"#fit-inline(box(baseline: 25%, image({string('/' + name)})))"


# -- LaTeX that can only become Typst math: no Typst code may come from a bank --------------
# tex2typst copies some arguments into its output verbatim: those of \text, \operatorname
# (into a string literal, quotes and backslashes unescaped), \textcolor (as the fill: of a
# #text(...) call), \hspace (into #h(...)), \array, \begin/\end; and it makes any unknown
# command a Typst identifier (\std -> std, Typst's whole standard library in math mode). So
# the LaTeX is prepared first (typst_ready), and the result checked token by token
# (inert_math) before anything compiles it.

_TYPST_COLOURS = frozenset({
    "black", "gray", "silver", "white", "navy", "blue", "aqua", "teal", "eastern", "purple",
    "fuchsia", "maroon", "red", "orange", "yellow", "olive", "green", "lime"})
_LENGTH = re.compile(r"\s*-?(?:\d+\.?\d*|\.\d+)\s*(?:pt|mm|cm|in|em)\s*")
_ENV_NAME = re.compile(r"\s*[A-Za-z]+\*?\s*")
_PLAIN_TEXT = re.compile(r'[^"\\{}\n]*')
_TEX_TOKEN = re.compile(r"\\(?:[A-Za-z]+\*?|.)|%[^\n]*|[^\\%]+", re.DOTALL)
_TEXT_MARK = "deckgentext{}x"  # letters and digits only: tex2typst copies it unchanged


def _group(tex: str, start: int) -> tuple[str, int] | None:
    """(content, index after the closing brace) of the brace group at or after ``start``
    (after blanks), or None if there is none or it never closes."""
    i = start
    while i < len(tex) and tex[i].isspace():
        i += 1
    if i >= len(tex) or tex[i] != "{":
        return None
    depth, j = 0, i
    while j < len(tex):
        c = tex[j]
        if c == "\\":
            j += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return tex[i + 1:j], j + 1
        j += 1
    return None


def _text_of(content: str) -> str:
    """The text of a ``\\text{}`` argument, as tex2typst reads it: ``\\{ \\} \\\\ \\$ \\& \\#
    \\_ \\%`` are the character, other commands stay as written."""
    return re.sub(r"\\([{}\\$&#_%])", r"\1", content)


def typst_ready(tex: str) -> tuple[str, list[str]] | None:
    """The LaTeX to give tex2typst, and the texts to put back into its string literals; or
    None for a formula it must not convert (the fallback draws it instead).

    Comments are dropped (tex2typst would make them Typst comments, which can swallow the
    rest of the formula). A ``\\text``/``\\operatorname`` argument with a quote, a backslash,
    braces or a line break is replaced by a mark that ``_put_texts`` turns into a properly
    escaped Typst string. ``\\textcolor`` needs a Typst colour name, ``\\hspace`` a length,
    ``\\begin``/``\\end`` an environment name; ``\\array`` is refused."""
    out: list[str] = []
    texts: list[str] = []
    i = 0
    while i < len(tex):
        m = _TEX_TOKEN.match(tex, i)
        assert m is not None  # the pattern matches any character
        token, i = m.group(0), m.end()
        if token.startswith("%"):
            continue
        name = token[1:]
        if name in ("text", "operatorname", "operatorname*"):
            group = _group(tex, i)
            if group is None:
                out.append(token)
                continue
            content, i = group
            if _PLAIN_TEXT.fullmatch(content):
                out.append(f"{token}{{{content}}}")
            else:
                out.append(f"{token}{{{_TEXT_MARK.format(len(texts))}}}")
                texts.append(_text_of(content))
        elif name in ("textcolor", "hspace", "hspace*", "begin", "end"):
            group = _group(tex, i)
            rule = {"textcolor": None, "begin": _ENV_NAME, "end": _ENV_NAME}.get(name, _LENGTH)
            if group is None:
                return None
            arg, i = group
            if rule is None:
                if arg.strip() not in _TYPST_COLOURS:
                    return None
            elif not rule.fullmatch(arg):
                return None
            out.append(f"{token}{{{arg}}}")
        elif name == "array":
            return None
        else:
            out.append(token)
    return "".join(out), texts


def _put_texts(converted: str, texts: list[str]) -> str | None:
    """``converted`` with each text mark's string literal replaced by the text, escaped; None
    if a mark is not there exactly once as a string literal."""
    for n, text in enumerate(texts):
        mark = f'"{_TEXT_MARK.format(n)}"'
        if converted.count(mark) != 1 or converted.count(_TEXT_MARK.format(n)) != 1:
            return None
        converted = converted.replace(mark, string(text))
    return converted


_T_STRING = re.compile(r'"(?:[^"\\\n]|\\[\\"nrt]|\\u\{[0-9A-Fa-f]{1,6}\})*"')
_T_ESCAPE = re.compile(r"\\(?:u\{[0-9A-Fa-f]{1,6}\}|[^\n])")
_T_CODE = re.compile(
    r"#(?:(?:none|true|false|auto|left|center|right)(?![\w.(\[-])"
    r"|\d+(?![\w.])"
    r"|\(vline: \((?:\d+, )*\d+\)\)"
    r"|h\((?:-?math\.(?:thin|med|thick|quad|wide)\.amount|-?(?:\d+\.?\d*|\.\d+)(?:pt|mm|cm|in|em))"
    r"\))")
_T_COLOUR = re.compile(r"#text\(fill: (?:" + "|".join(sorted(_TYPST_COLOURS)) + r")\)\[\$")
_T_NAME = re.compile(r"[^\W\d_][^\W_]*")
_T_BARRED = frozenset({"std", "sys"})


def inert_math(typ: str) -> bool:
    """Whether Typst math (tex2typst's output) holds no code: no ``#`` but the few forms
    tex2typst writes itself (``#none``, ``#h(1em)``, ``#text(fill: red)[$...$]``, ...), no
    ``std`` (the standard library, reachable from math mode), no comment, every string literal
    closed, and no ``$`` but those of a ``#text[...]``."""
    depth = 0
    i, n = 0, len(typ)
    while i < n:
        c = typ[i]
        if c == '"' or c == "\\":
            m = (_T_STRING if c == '"' else _T_ESCAPE).match(typ, i)
            if m is None:
                return False
            i = m.end()
        elif c == "#":
            m = _T_CODE.match(typ, i)
            if m is None:
                m = _T_COLOUR.match(typ, i)
                if m is None:
                    return False
                depth += 1
            i = m.end()
        elif c == "$":
            if not depth or not typ.startswith("$]", i):
                return False
            depth -= 1
            i += 2
        elif typ.startswith(("//", "/*"), i) or c == "@":
            return False
        elif (m := _T_NAME.match(typ, i)) is not None:
            if m.group(0) in _T_BARRED:
                return False
            i = m.end()
        else:
            i += 1
    return depth == 0


_NORM = re.compile(r"bar\.v\.double (.+?) bar\.v\.double")
_ABS = re.compile(r"(?<![\w.])\| (.+?) \|(?![\w.])")


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth < 0:
            return False
    return depth == 0


def tighten_bars(typ: str) -> str:
    """``| x |`` -> ``abs(x)`` and ``‖ x ‖`` -> ``norm(x)``: Typst spaces lone bars loosely.

    Only pairs whose inside is balanced are rewritten, so ``p(a | b) q(c | d)`` stays as is.
    """
    def sub(name: str):
        def repl(m: re.Match[str]) -> str:
            inner = m.group(1)
            return f"{name}({inner})" if _balanced(inner) and "|" not in inner else m.group(0)
        return repl
    return _ABS.sub(sub("abs"), _NORM.sub(sub("norm"), typ))


OUTPUT_PRIORITY = ("image/svg+xml", "image/png", "text/latex", "text/plain")
"""The MIME type of a cell's output a printed card shows, of those the output has."""

# Elements that become a Typst function around their content: (tag, class or None) ->
# (opening markup, closing markup).
_WRAPPERS: dict[tuple[str, str | None], tuple[str, str]] = {
    **{(t, None): ("#strong[", "]") for t in ("strong", "b")},
    **{(t, None): ("#emph[", "]") for t in ("em", "i")},
    **{(t, None): ("#strike[", "]") for t in ("s", "del")},
    ("sub", None): ("#sub[", "]"),
    ("sup", None): ("#super[", "]"),
    **{(t, None): ("#underline[", "]") for t in ("u", "ins")},
    ("div", "unanswered"): ("#emph[", "]"),
    ("summary", None): ("#text(size: 0.8em)[#emph[", "]]"),
}
_BLANK = ("#box(stroke: (bottom: 0.6pt), inset: (x: 2pt), outset: (y: 2pt))[", "]")
_FILL = ('#highlight(fill: rgb("#dbe8ff"))[#strong[', "]]")
_SUMMARY = _WRAPPERS[("summary", None)]
_CORRECT = '#text(fill: rgb("#13752f"), weight: "bold")[✓ ]'
_WRONG = "#text(fill: gray)[✗ ]"


def _wrapper(tag: str, classes: tuple[str, ...]) -> tuple[str, str] | None:
    return _WRAPPERS.get((tag, None)) or next(
        (w for (t, k), w in _WRAPPERS.items() if t == tag and k in classes), None)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _code_block(code: str, lang: str = "", output: bool = False) -> str:
    if output:
        return f"\n#output-block(raw({string(code.rstrip())}, block: true))\n"
    lang_arg = f", lang: {string(lang)}" if lang and lang != "text" else ""
    return f"\n#code-block(raw({string(code.rstrip())}, block: true{lang_arg}))\n"


class _Typst:
    """Content -> Typst markup. Every text goes into a string literal."""

    def __init__(self, math: MathConverter, media: dict[str, bytes], workdir: Path,
                 side: str):
        self.math = math
        self.media = media
        self.workdir = workdir
        self.side = side

    def nodes(self, nodes: c.Content) -> str:
        out: list[str] = []
        run: list[str] = []  # adjacent texts: one string
        for node in nodes:
            if isinstance(node, c.Text | c.Value):
                run.append(node.text)
                continue
            if run:
                out.append(text_markup(_squash("".join(run))))
                run = []
            out.append(self.node(node))
        if run:
            out.append(text_markup(_squash("".join(run))))
        return "".join(out)

    def node(self, n: c.Node) -> str:  # noqa: C901 - one case per node type
        if isinstance(n, c.Text | c.Value):
            return text_markup(_squash(n.text))
        if isinstance(n, c.Element):
            return self.element(n)
        if isinstance(n, c.Block | c.Verdict):
            return self.nodes(n.children)
        if isinstance(n, c.Details):
            return _SUMMARY[0] + text_markup(_squash(n.summary)) + _SUMMARY[1] + \
                self.nodes(n.children)
        if isinstance(n, c.Math):
            return self.formula(n.tex, n.display)
        if isinstance(n, c.Code):
            return f"#raw({string(n.code)})"
        if isinstance(n, c.CodeBlock):
            return _code_block(n.code.lstrip("\n"), n.language)
        if isinstance(n, c.Figure):
            if n.src is None:
                return text_markup(f"[{n.caption or n.alt}]")
            return self.image(n.src, n.alt or n.caption) + self.caption(
                text_markup(_squash(n.caption)) if n.caption else "")
        if isinstance(n, c.Cloze):
            if self.side == "front":
                return _BLANK[0] + text_markup(f"[{n.number}]") + _BLANK[1]
            return _FILL[0] + self.nodes(n.fill) + _FILL[1]
        if isinstance(n, c.Blank):
            return _BLANK[0] + text_markup(f"[{n.number}]") + _BLANK[1]
        if isinstance(n, c.Choices):
            items = []
            for item in n.items:
                mark = "" if item.correct is None else _CORRECT if item.correct else _WRONG
                items.append(f"[{(mark + self.nodes(item.children)).strip()}]")
            return f"\n#enum({', '.join(items)})\n"
        if isinstance(n, c.Cell):
            code = _code_block(n.code.strip("\n"), "python") if n.code is not None else ""
            return code + self.nodes(n.outputs)
        if isinstance(n, c.Output):
            return self.output(n)
        if isinstance(n, c.Unanswered):
            return ("#emph[" + text_markup("No answer yet: write it under the question, or add ")
                    + f"#raw({string('## ' + n.key)})" + text_markup(" to the answers file.")
                    + "]")
        return ""

    def formula(self, tex: str, display: bool) -> str:
        if too_complex(tex):  # shown as its source, as on the Anki card
            if display:
                return _code_block(tex.strip())
            return f"#raw({string(tex.strip())})"
        # (restore_tex: a formula as written, inert or not: the converter checks it again)
        markup = self.math(restore_tex(prepared_tex(tex, display)), display)
        return f"\n{markup}\n" if display else markup

    def output(self, n: c.Output) -> str:
        chosen = n.choose(OUTPUT_PRIORITY)
        if chosen is None:
            return ""
        mime, value = chosen
        if mime.startswith("image/"):
            return self.image(value, n.alt) + self.caption(self.nodes(n.caption))
        if mime == "text/latex":
            return self.formula(c.latex_formula(value), True)
        return _code_block(value, output=True) if value else ""

    def caption(self, markup: str) -> str:
        if not markup:
            return ""
        return f"\n#align(center, text(size: 0.8em, fill: luma(90))[{markup}])\n"

    def image(self, name: str, alt: str) -> str:
        data = self.media.get(name)
        if data is None:
            return text_markup(f"[{alt or 'image'}]")
        target = self.workdir / name
        if not target.exists():
            target.write_bytes(data)
        return f"\n#card-image({string('/' + name)})\n"

    def plain(self, nodes: c.Content) -> str:
        """The text of some content, a deletion as its number or its fill (code's text)."""
        out: list[str] = []
        for node in nodes:
            if isinstance(node, c.Cloze | c.Blank):
                if self.side == "front" or isinstance(node, c.Blank):
                    out.append(f"[{node.number}]")
                else:
                    out.append(self.plain(node.fill))
            elif isinstance(node, c.Element):
                out.append(self.plain(node.children))
            else:
                out.append(c.text_of((node,)))
        return "".join(out)

    def element(self, n: c.Element) -> str:  # noqa: C901 - one case per element
        tag, cls = n.tag, n.classes
        if tag == "br":
            return "#linebreak()"
        if tag == "hr":
            return "\n#line(length: 100%, stroke: 0.4pt + gray)\n"
        if tag == "img":
            return self.image(n.attr("src"), n.attr("alt", "image"))
        if tag == "pre":
            return _code_block(c.text_of(n.children), output="output" in cls)
        if tag == "code":
            return f"#raw({string(self.plain(n.children))})"
        if (wrap := _wrapper(tag, cls)) is not None:
            return wrap[0] + self.nodes(n.children) + wrap[1]
        if tag == "a":
            href = n.attr("href")
            return (f"#link({string(href)})[" if href else "#[") + self.nodes(n.children) + "]"
        if tag == "p":
            return "\n\n" + self.nodes(n.children) + "\n\n"
        if tag in ("ol", "ul"):
            items = [f"[{self.nodes(k.children).strip()}]" for k in n.children
                     if isinstance(k, c.Element) and k.tag == "li"]
            if tag == "ul":
                return f"\n#list({', '.join(items)})\n"
            start = n.attr("start")
            start_arg = f"start: {int(start)}, " if start.isdigit() else ""
            return f"\n#enum({start_arg}{', '.join(items)})\n"
        if tag == "li":  # an item outside any list: a paragraph
            return "\n\n" + self.nodes(n.children)
        if tag == "figcaption":
            return self.caption(self.nodes(n.children))
        if tag == "table":
            rows = [[f"[{self.nodes(cell.children)}]" for cell in row.children
                     if isinstance(cell, c.Element) and cell.tag in ("td", "th")]
                    for row in _rows(n)]
            rows = [r for r in rows if r]
            if not rows:
                return ""
            cols = max(len(r) for r in rows)
            cells = ", ".join(x for r in rows for x in r + ["[]"] * (cols - len(r)))
            return f"\n#fit-width(table(columns: {cols}, {cells}))\n"
        return self.nodes(n.children)  # div, span, details, headings, quotes...


def _rows(table: c.Element) -> list[c.Element]:
    """A table's rows, inside its head and body or not (not those of a table inside it)."""
    rows: list[c.Element] = []
    for k in table.children:
        if isinstance(k, c.Element) and k.tag == "tr":
            rows.append(k)
        elif isinstance(k, c.Element) and k.tag in ("thead", "tbody", "tfoot"):
            rows.extend(_rows(k))
    return rows


def content_to_typst(content: c.Content, math: MathConverter, media: dict[str, bytes],
                     workdir: Path, side: str) -> str:
    """Typst markup for a card side. ``side`` 'front' shows cloze blanks, 'back' fills."""
    return _Typst(math, media, workdir, side).nodes(content).strip()


__all__ = ["content_to_typst", "MathConverter", "string"]
