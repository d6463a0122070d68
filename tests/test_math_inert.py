"""Math is inert: no formula, computed value or raw HTML of a bank makes a card link, run,
style or redefine anything in Anki's MathJax; no LaTeX becomes Typst code in the PDF; no
cloze deletion comes from anywhere but deckgen's own blanks; Typst has a time limit.

Anki's MathJax (Anki's ts/mathjax/index.ts) reads ``\\(...\\)`` and ``\\[...\\]`` only, with
processEscapes and processEnvironments off, and autoloads the html extension. There is no
browser here, so ``mathjax_formulas`` below finds the formulas MathJax 3 would typeset the way
its FindTeX and HTMLDomStrings do, and ``active`` names the commands in them it would act on.
"""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import build, cards_json, write_bank
from deckgen import config
from deckgen.errors import Location, Severity
from deckgen.media import MediaStore
from deckgen.compose import ComposeContext, Outputs, compose, compose_inline
from deckgen.content import Blank, Text, replace_blanks
from deckgen.render.html import field_html, inline_html
from deckgen.render.sanitize import unsafe_latex, unsafe_latex_in_bank

# -- a model of what Anki's MathJax typesets ---------------------------------------------------

# element kinds HTMLDomStrings keeps inside one string, and the ones whose text it skips
_INCLUDED = {"br": "\n", "wbr": ""}
_SKIPPED = {"script", "noscript", "style", "textarea", "pre", "code", "annotation",
            "annotation-xml"}


class _Strings(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.strings: list[str] = [""]
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in _INCLUDED:
            self.strings[-1] += _INCLUDED[tag]
            return
        self.strings.append("")
        if tag in _SKIPPED:
            self.skip += 1

    def handle_startendtag(self, tag, attrs):
        if tag in _INCLUDED:
            self.strings[-1] += _INCLUDED[tag]
        else:
            self.strings.append("")

    def handle_endtag(self, tag):
        if tag in _INCLUDED:
            return
        self.strings.append("")
        if tag in _SKIPPED and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.strings[-1] += data


_START = re.compile(r"\\\(|\\\[")
_END = {"\\(": re.compile(r"\\\)|\\[a-zA-Z]|\\.|[{}]"),
        "\\[": re.compile(r"\\\]|\\[a-zA-Z]|\\.|[{}]")}


def mathjax_formulas(html: str) -> list[str]:
    """The TeX of every formula MathJax 3 (Anki's settings) would typeset in ``html``."""
    parser = _Strings()
    parser.feed(html)
    parser.close()
    found = []
    for text in parser.strings:
        pos = 0
        while (start := _START.search(text, pos)) is not None:
            close = "\\)" if start.group(0) == "\\(" else "\\]"
            braces, end = 0, None
            for m in _END[start.group(0)].finditer(text, start.end()):
                if m.group(0) == close and braces == 0:
                    end = m
                    break
                if m.group(0) == "{":
                    braces += 1
                elif m.group(0) == "}" and braces:
                    braces -= 1
            if end is None:
                pos = start.end()
                continue
            found.append(text[start.end():end.start()])
            pos = end.end()
    return found


_MATHJAX_ACTIVE = {"href", "style", "class", "cssId", "data", "mmlToken", "def", "let",
                   "newcommand", "renewcommand", "newenvironment", "renewenvironment",
                   "require", "setOptions", "DeclareMathOperator", "definecolor", "global",
                   "gdef", "Newextarrow", "newtagform", "mathtoolsset", "DeclarePairedDelimiter"}


def active(html: str) -> list[str]:
    """Commands MathJax would act on in ``html`` that link, style, define or load."""
    out = []
    for tex in mathjax_formulas(html):
        for m in re.finditer(r"\\([A-Za-z]+|.)", tex):
            name, rest = m.group(1), tex[m.end():]
            if name in _MATHJAX_ACTIVE or \
                    (name == "unicode" and not re.match(r"\s*\{\s*x?[0-9a-fA-F]+\s*\}", rest)) or \
                    (name == "bbox" and re.match(r"\s*\[[^\]]*:", rest)):
                out.append("\\" + name)
    return out


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [v or "" for k, v in attrs if k in ("href", "src", "action", "xlink:href")]


def javascript_urls(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return [u for u in parser.urls if re.sub(r"[\s\x00-\x1f]", "", u).lower()
            .startswith(("javascript:", "vbscript:", "data:text"))]


def test_the_model_sees_what_mathjax_would_do():
    """The checks below are only as good as this model: it finds the attacks in HTML as the
    code before this change produced it."""
    assert mathjax_formulas(r"<p>a \(x\) b \[y\]</p>") == ["x", "y"]
    assert active(r"<p>\(\href{javascript:alert(1)}{x}\)</p>") == ["\\href"]
    # a "{" never closed runs the formula on into the text after it
    assert active(r"<p>\(x{\) \href{javascript:alert(1)}{click}} and \(y\)</p>") == ["\\href"]
    # a formula in text that deckgen never saw, broken only by a left-out tag
    assert active("<p>\\(\\style{color:red}{x}\\)</p>") == ["\\style"]
    assert active("<pre>\\(\\href{a}{b}\\)</pre><code>\\(\\def\\x{y}\\)</code>") == []
    assert active("<p><span>\\</span>(\\href{a}{b}\\)</p>") == []
    assert active(r"<p>\(\backslash\mathtt{href}{javascript:alert(1)}{x}\)</p>") == []
    assert javascript_urls('<a href=" jav&#x09;ascript:alert(1)">x</a>') != []


# -- rendering ---------------------------------------------------------------------------------

def render(md: str, outputs: list | None = None) -> tuple[str, list]:
    root = Path("/nonexistent")
    ctx = ComposeContext(MediaStore(root), root, Location("a.md", 10),
                         Outputs(outputs) if outputs is not None else None)
    return field_html(compose(md, ctx)), ctx.diagnostics


ATTACKS = [
    r"\href{javascript:alert(1)}{click}",
    r"\href{https://example.org}{click}",
    r"\url{javascript:alert(1)}",
    r"\style{position:fixed;top:0;width:100%;height:100%}{x}",
    r"\class{hidden}{x}",
    r"\cssId{qa}{x}",
    r"\data{a=1}{x}",
    r"\mmlToken{mi}[href='javascript:alert(1)']{x}",
    r"\def\frac#1#2{HACKED}",
    r"\newcommand{\frac}[2]{HACKED}",
    r"\renewcommand{\sqrt}{x}",
    r"\let\sqrt\frac",
    r"\require{texhtml}",
    r"\setOptions[tex]{tagSide=left}",
    r"\DeclareMathOperator{\foo}{foo}",
    r"\definecolor{red}{RGB}{0,255,0}",
    r"\unicode[fontfamily]{x41}",
    r"\unicode{<script>}",
    r"\bbox[background:url(https://tracker.example/x.png)]{x}",
    r"x \\ \href{javascript:alert(1)}{x}",
    r"\text{\href{javascript:alert(1)}{x}}",
]


@pytest.mark.parametrize("tex", ATTACKS)
@pytest.mark.parametrize("form", ["$%s$", "$$%s$$", "\n$$\n%s\n$$\n", "Text $%s$ and $x$."])
def test_formulas_never_pass_on_an_active_command(tex, form):
    html, _ = render(form % tex)
    assert active(html) == [] and javascript_urls(html) == []
    assert "\\backslash\\mathtt{" in html  # shown as text, not dropped


def test_options_and_cloze_fills_are_inert_too():
    root = Path("/nonexistent")
    ctx = ComposeContext(MediaStore(root), root, Location("q.md", 3))
    option = inline_html(compose_inline(r"$\href{javascript:alert(1)}{x}$ or \\(\def\x{y}\\)",
                                        ctx))
    front = field_html(replace_blanks((Text("It is "), Blank(1), Text(".")),
                                      [compose_inline(r"$\style{color:red}{y}$", ctx)]))
    for html in (option, front):
        assert active(html) == [] and javascript_urls(html) == []


ORDINARY = [
    r"\frac{1}{2} + \sqrt{x^2}", r"\mathbb{E}[X] = \sum_i p_i x_i", r"a \\ b",
    r"\operatorname{Var}(w) = 1/n", r"\unicode{x263A} \unicode{9731}", r"\bbox[yellow,5pt]{x}",
    r"\text{accuracy} = \frac{TP}{N}", r"\textcolor{red}{x}", r"\hrefx", r"\left\{ x \right\}",
]


@pytest.mark.parametrize("tex", ORDINARY)
def test_ordinary_formulas_are_unchanged(tex):
    html, diags = render(f"${tex}$")
    assert html == f"<p>\\({tex}\\)</p>".replace("&", "&amp;") and diags == []
    assert unsafe_latex(f"${tex}$", Location("a.md", 1)) == []


def test_text_cannot_start_a_formula():
    cases = [
        "Text \\\\(\\href{javascript:alert(1)}{x}\\\\) here",  # \\( in Markdown is \( in HTML
        "<div>\\(\\href{javascript:alert(1)}{x}\\)</div>",     # raw HTML block
        "a <b>\\[\\def\\x{y}\\]</b> b",                         # inline raw HTML
        "a \\\\<foo>(\\href{javascript:alert(1)}{x}\\\\) b",    # a tag left out joins \ and (
        "<div>\\<!-- -->(\\href{javascript:alert(1)}{x}\\)</div>",
    ]
    for md in cases:
        html, _ = render(md)
        assert mathjax_formulas(html) == [], (md, html)
        assert "href" not in md or "href" in html  # shown, as text


def test_a_formula_never_runs_into_the_text_after_it():
    for md in ["Unbalanced $x{$ \\href{javascript:alert(1)}{click}} and $y$.",
               "$\\left\\{ {$ \\href{javascript:alert(1)}{click}} $y$"]:
        html, _ = render(md)
        assert active(html) == [], html
        assert mathjax_formulas(html)[-1] == "y"
    # a value ending in a backslash would take deckgen's closing "\)" for itself
    html, _ = render("$x `{python} v`$ then \\href{javascript:alert(1)}{click} and $y$",
                     [{"value": "\\"}])
    assert active(html) == [] and mathjax_formulas(html)[-1] == "y"


def test_computed_values_and_outputs_are_inert_with_a_located_warning():
    md = ("Value $`{python} a`$ and `{python} b` here.\n\n"
          "```{python}\nprint(1)\n```\n")
    html, diags = render(md, [{"value": r"\href{javascript:alert(1)}{x}"},
                              {"value": r"\(\def\frac{x}\)"},
                              {"outputs": [{"data": {"text/latex": r"$\style{color:red}{y}$"}},
                                           {"data": {"text/plain": "[latex]x[/latex]"}}]}])
    assert active(html) == [] and javascript_urls(html) == []
    assert "[latex]" not in html and "&#91;latex]" in html
    assert [(d.code, d.severity, str(d.loc)) for d in diags] == \
        [("unsafe-latex", Severity.WARNING, "a.md:10")] * 2 + \
        [("unsafe-latex", Severity.WARNING, "a.md:12")] * 2
    assert "\\href" in diags[0].message and "'\\('" in diags[1].message
    assert "\\style" in diags[2].message and "[latex]" in diags[3].message
    # what the answer's own text holds is the gather stage's to report, not the renderer's
    _, again = render("$\\def\\x{`{python} v`}$", [{"value": "2"}])
    assert again == []


def test_static_text_is_reported_with_its_line():
    md = ("Fine $x$.\n\n"                                  # line 10
          "Bad $\\href{javascript:alert(1)}{x}$.\n\n"      # 12
          "$$\n\\def\\frac{x}\n$$\n\n"                     # 14
          "<div>\\(x\\)</div>\n\n"                         # 18
          "Anki [latex]x[/latex] and [sound:a.mp3]\n\n"    # 20
          "```{python}\n#| fig-cap: $\\style{a}{b}$\nplot()\n```\n\n"   # 22
          "`\\href{x}{y}` in code, $`{python} '\\\\href'`$ as code\n")    # 27
    diags = unsafe_latex(md, Location("a.md", 10))
    assert [(str(d.loc), d.code, d.severity) for d in diags] == [
        ("a.md:12", "unsafe-latex", Severity.WARNING), ("a.md:14", "unsafe-latex",
                                                        Severity.WARNING),
        ("a.md:18", "unsafe-latex", Severity.WARNING), ("a.md:20", "unsafe-latex",
                                                        Severity.WARNING),
        ("a.md:22", "unsafe-latex", Severity.WARNING)]
    assert "\\href" in diags[0].message and "\\def" in diags[1].message
    assert "'\\('" in diags[2].message and "[latex]" in diags[3].message
    assert "\\style" in diags[4].message


def test_every_field_of_a_bank_is_checked(tmp_path: Path, monkeypatch):
    from deckgen.pipeline import gather

    bank = write_bank(tmp_path / "b", "1. Which? Choose one.\n\n    1. $\\def\\x{y}$\n"
                      "    2. $y$\n\n---\n\n2. Stem $\\class{a}{b}$.\n\n    1. What is "
                      "$\\href{j}{k}$?\n    2. Why?\n",
                      "## 1\nCorrect: 2\n\n## 2.1\n$\\let\\a\\b$\n\n## 2.2\nBecause.\n")
    monkeypatch.chdir(bank)
    banks = gather(config.load(bank)).banks
    found = [(str(d.loc), d.message.split(" uses ")[1].split(":")[0])
             for d in unsafe_latex_in_bank(banks[0])]
    assert found == [("q.md:3", "\\def"), ("q.md:8", "\\class"), ("q.md:10", "\\href"),
                     ("answers/a.md:4", "\\let")]


FIGURE = ('1. What does it show?\n\n<table><tr><td><img src="img/a.png" alt="{{c2::alt}}">'
          '</td></tr><tr><td>\\(\\href{javascript:alert(1)}{x}\\) {{c3::cap}} [sound:a.mp3]'
          '</td></tr></table>\n')


def _figure_bank(tmp_path: Path) -> Path:
    bank = write_bank(tmp_path / "b", FIGURE, "## 1\nA plot.\n")
    (bank / "img").mkdir()
    (bank / "img" / "a.png").write_bytes(next((Path(__file__).parent.parent / "source" / "img")
                                              .glob("*.png")).read_bytes())
    return bank


def test_a_figure_caption_is_reported(tmp_path: Path, monkeypatch):
    from deckgen.pipeline import gather

    bank = _figure_bank(tmp_path)
    monkeypatch.chdir(bank)
    diags = unsafe_latex_in_bank(gather(config.load(bank)).banks[0])
    assert [(str(d.loc), d.code) for d in diags] == [("q.md:3", "unsafe-latex")] * 2


def test_a_figure_caption_is_inert(tmp_path: Path, monkeypatch):
    bank = _figure_bank(tmp_path)
    monkeypatch.chdir(bank)
    build(bank, tmp_path / "out", execute=False)
    [card] = cards_json(tmp_path / "out")["cards"]
    html = card["front"] + card["context"]
    assert mathjax_formulas(html) == [] and "{{" not in html and "[sound:" not in html


def test_cloze_syntax_comes_only_from_deckgen():
    root = Path("/nonexistent")
    ctx = ComposeContext(MediaStore(root), root, Location("a.md", 10))
    content = compose('<div>{{c2::block}}</div>\n\nText <span title="{{c3::t}}">x</span> '
                      "<b>{{c4::inline}}</b> $x$\n\n$$\n{{c5::display}}\n$$\n\n"
                      "```\n{{c6::code}}\n```\n\n![{{c7::alt}}](missing.png)\n\n"
                      "a \ue0001\ue001 b }}}", ctx)
    front = field_html(replace_blanks(content, [(Text("{{c8::nested}} fill"),)]))
    assert re.findall(r"\{\{c(\d+)::", front) == ["1"]
    assert front.count("}}") == 1
    # text (any field, also of basic cards: the PDF reads deletions in every field)
    text, _ = render("a }}} b {{{ c $x^{y^{2}}}$ <div>}}}</div>")
    assert "}}" not in text and "{{" not in text


def test_anki_markup_is_shown_as_text():
    html, _ = render("[latex]\\input{/etc/passwd}[/latex] and [sound:a.mp3]\n\n"
                     "<div>[LaTeX]z[/LaTeX]</div>\n\n<div>[$]x[/$] [$$]y[/$$]</div>")
    assert not re.search(r"\[(/?latex|/?\$\$?|sound:)", html, re.I)
    assert html.count("&#91;") == 9


# -- Typst ------------------------------------------------------------------------------------

TYPST_ATTACKS = [
    r'x \tag{#read("/card.typ")}',
    r'\text{"#read("/card.typ")"}',
    r'\text{a"std.read("/card.typ")"b}',
    r'\text{a\\"std.read("/card.typ")"}',
    r'\operatorname{"+std.read("/card.typ")+"}',
    r'\operatorname*{x"std.read("/card.typ")"}',
    r'\textcolor{std.read("/card.typ")}{x}',
    r'\hspace{1em) std.read("/card.typ"}',
    r'\array{std.read("/card.typ")}',
    r'\std.\read(\text{/card.typ})',
    r'\std.\eval(\text{"1"})',
    r'\begin{std.read("/card.typ")} a \end{std.read("/card.typ")}',
    "x % \"#read(\"/card.typ\")\n + y",
    r'\text{"#range(3000000).fold(0, (a, b) => a + b)"}',
    r'\mathrm{#read("/card.typ")}',
    r'\label{#read("/card.typ")}',
]


@pytest.mark.parametrize("tex", TYPST_ATTACKS)
def test_no_typst_code_comes_from_latex(tex):
    import tex2typst

    from deckgen.render.typst_markup import _put_texts, inert_math, typst_ready

    ready = typst_ready(tex)
    if ready is None:
        return  # refused: the fallback draws it, or it shows as source
    try:
        converted = tex2typst.tex2typst(ready[0])
    except Exception:  # noqa: BLE001 - tex2typst refuses it: fallback
        return
    typ = _put_texts(converted, ready[1])
    if typ is None or not inert_math(typ):
        return
    # what passes holds the attack only inside string literals
    outside = re.sub(r'"(?:[^"\\]|\\.)*"', '""', typ)
    assert "#read" not in outside and "std" not in outside and "#range" not in outside, typ


def test_latex_is_prepared_so_that_text_stays_text():
    import tex2typst

    from deckgen.render.typst_markup import _put_texts, typst_ready

    def converted(tex: str) -> str | None:
        ready = typst_ready(tex)
        return None if ready is None else _put_texts(tex2typst.tex2typst(ready[0]), ready[1])
    # a quote or a backslash in \text stays text, in a string Typst reads as such
    assert converted(r'\text{say "hi" \\ \{x\}}') == r'"say \"hi\" \\ {x}"'
    assert converted(r'\operatorname{a"b}') == r'op("a\"b")'
    assert converted(r"\text{accuracy} = \operatorname{Var}(x)") == '"accuracy" = op("Var")(x)'
    # a comment is dropped, not made a Typst comment that swallows the rest of the line
    assert " ".join(str(converted("a % note\n + b")).split()) == "a + b"
    # arguments tex2typst would copy into Typst code are refused unless they are data
    for tex in [r'\textcolor{std.read("x")}{y}', r"\textcolor{Red}{y}", r'\hspace{1em) x',
                r"\array{x}", r'\begin{x"y} a \end{x"y}']:
        assert typst_ready(tex) is None, tex
    assert converted(r"\textcolor{red}{y} \hspace{2pt}") == "#text(fill: red)[$y$] #h(2pt)"


def test_inert_math_refuses_code():
    from deckgen.render.typst_markup import inert_math

    for ok in ['"a" + b', "mat(delim: #none, a, b)", "#h(-math.thin.amount) x #h(1em)",
               "#text(fill: red)[$x + 1$] y", 'op("Var") [X]', "arrow.r.long", r"\# \$ \u{41}"]:
        assert inert_math(ok), ok
    for bad in ['#read("/card.typ")', 'std.read("x")', 'std . read("x")', '"a" b"', "x // c",
                "x /* c */", "$ #eval $", "#text(fill: read(\"x\"))[$x$]", "#h(1em) #none.x",
                "#text(fill: red)[$x", "@label", "#let x = 1", 'sys.inputs']:
        assert not inert_math(bad), bad


def _pdf_text(path: Path) -> str:
    import pymupdf
    return "".join(page.get_text() for page in pymupdf.open(path))


@pytest.mark.slow
def test_typst_attacks_evaluate_no_code(tmp_path: Path):
    questions = "## Attacks\n\n" + "\n\n---\n\n".join(
        f"{n}. Is ${tex}$ typeset?" if "\n" not in tex else f"{n}. Is it?\n\n$$\n{tex}\n$$"
        for n, tex in enumerate(TYPST_ATTACKS, 1)) + "\n"
    bank = write_bank(tmp_path / "b", questions)
    out = tmp_path / "out"
    started = time.monotonic()
    result = build(bank, out)
    assert time.monotonic() - started < 60  # the 36 s fold is never run
    text = _pdf_text(out / "t-cards.pdf")
    card_typ = (Path(__file__).parent.parent / "renderers" / "print" / "card.typ").read_text()
    for line in ("#let min-size", "deckgen-line-width", "card-doc"):
        assert line in card_typ and line not in text
    assert "4500000" not in text and "499999" not in text  # the fold's sum is not printed
    assert all(f"Q{n}" in text for n in range(1, len(TYPST_ATTACKS) + 1))
    assert not [d for d in result.diagnostics if d.code == "pdf-plain-text"]


@pytest.mark.slow
def test_a_slow_compile_is_stopped_by_the_time_limit(tmp_path: Path):
    from deckgen.render import typst_run

    (tmp_path / "slow.typ").write_text("#range(30000000).fold(0, (a, b) => a + b)\n")
    started = time.monotonic()
    with pytest.raises(typst_run.TypstTimeout):
        typst_run.compile_file(tmp_path / "slow.typ", tmp_path, [], tmp_path / "slow.pdf",
                               timeout=1.0)
    assert time.monotonic() - started < 10
    with pytest.raises(typst_run.TypstTimeout):
        typst_run.FormulaCompiler(tmp_path, []).compile(
            b"#range(30000000).fold(0, (a, b) => a + b)")
    # the next compile gets a fresh worker
    (tmp_path / "ok.typ").write_text("Hello\n")
    typst_run.compile_file(tmp_path / "ok.typ", tmp_path, [], tmp_path / "ok.pdf", timeout=30)
    assert (tmp_path / "ok.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.slow
def test_a_card_that_takes_too_long_prints_as_plain_text(tmp_path: Path, monkeypatch):
    """Whatever Typst is given (here, code slipped past the conversion on purpose), a card that
    takes longer than the limit is stopped, printed as plain text with a warning, and its
    chunk is not cached (on a busy machine a normal card may run out of time)."""
    from deckgen.render import pdf, typst_run

    monkeypatch.setattr(typst_run, "CHUNK_TIMEOUT", 3.0)
    content = pdf._side_content

    def slow(card, side, *args):
        if card.ref == "Q2" and side == "front":
            return "#range(100000000).fold(0, (a, b) => a + b)"
        return content(card, side, *args)
    monkeypatch.setattr(pdf, "_side_content", slow)
    bank = write_bank(tmp_path / "b", "1. One?\n\n---\n\n2. Two?\n\n---\n\n3. Three?\n",
                      "## 1\nA.\n\n## 2\nB.\n\n## 3\nC.\n")
    out = tmp_path / "out"
    started = time.monotonic()
    result = build(bank, out)
    assert time.monotonic() - started < 40
    [warning] = [d for d in result.diagnostics if d.code == "pdf-plain-text"]
    assert "Q2" in warning.message and "longer than 3 s" in warning.message
    text = _pdf_text(out / "t-cards.pdf")
    assert "Two?" in text and "printed as plain text" in text and "One?" in text
    # the three cards are one chunk: it is not cached, so the next build tries again
    assert [p for p in (out / "cache" / "pdf").glob("*.json")
            if not p.name.startswith("math")] == []


# -- end to end --------------------------------------------------------------------------------

BANK = r"""## Attacks

1. Click $\href{javascript:alert(1)}{click}$ now?

---

2. Define $\def\frac#1#2{HACKED}$, then $\frac{1}{2}$?

---

3. Text \\(\href{javascript:alert(2)}{x}\\) and unbalanced $x{$ \href{javascript:alert(3)}{y}} $z$?

---

4. Which one? Choose one.

    1. $\style{color:red}{a}$
    2. $\mmlToken{mi}[href="javascript:alert(4)"]{b}$

---

5. The capital of France is [...].

<div>\(\cssId{qa}{x}\) {{c2::Oops}} [latex]\input{x}[/latex]</div>

```
{{c3::code}}
```

---

6. Computed?
"""
ANSWERS = r"""## 1
Yes.

## 2
No.

## 3
Text.

## 4
Correct: 1

## 5
1. Paris

## 6
Value $`{python} "\\href{javascript:alert(5)}{v}"`$ and `{python} "\\(\\href{javascript:alert(6)}{w}\\)"`.
"""


@pytest.fixture(scope="module")
def attack_build(tmp_path_factory) -> tuple[Path, object]:
    root = tmp_path_factory.mktemp("attack")
    bank = write_bank(root / "b", BANK, ANSWERS)
    out = root / "out"
    return out, build(bank, out)


@pytest.mark.slow
def test_every_field_is_inert_in_the_json(attack_build):
    out, result = attack_build
    for card in cards_json(out)["cards"]:
        for field in ("context", "front", "back"):
            assert active(card[field]) == [], (card["ref"], field, card[field])
            assert javascript_urls(card[field]) == []
    # what the cells computed is reported by the build (the bank's own text, when gathered)
    computed = [d for d in result.diagnostics if d.code == "unsafe-latex" and
                d.loc.path.endswith("a.md")]
    # (lines in an answer count from its heading, as for its images)
    assert {str(d.loc).rsplit("/", 1)[-1] for d in computed} == {"a.md:16"}
    assert len(computed) == 2  # the value in a formula, the one in text


@pytest.mark.slow
def test_cards_rendered_by_anki_are_inert(attack_build, tmp_path: Path):
    from anki_helpers import import_apkg, new_collection

    out, _ = attack_build
    col = new_collection(tmp_path)
    import_apkg(col, next(out.glob("*.apkg")))
    cards = [col.get_card(cid) for cid in col.find_cards("")]
    assert len(cards) == 6  # the cloze note has one card: {{c2::Oops}}, {{c3::code}} none
    for card in cards:
        for html in (card.question(), card.answer()):
            assert active(html) == [] and javascript_urls(html) == [], html
            assert "latex-" not in html  # Anki made no LaTeX image
            assert "\\href" not in "".join(mathjax_formulas(html))
    q1 = next(c for c in cards if c.note()["Ref"] == "Q1").question()
    assert "\\backslash\\mathtt{href}{javascript:alert(1)}{click}" in q1  # visible as text


@pytest.mark.slow
def test_the_printed_cards_show_such_formulas_as_their_source(attack_build):
    out, result = attack_build
    text = _pdf_text(out / "t-cards.pdf")
    assert "\\href{javascript:alert(1)}{click}" in text  # as written, never typeset
    assert "\\def\\frac#1#2{HACKED}" in text and "backslash" not in text
    shown = [d for d in result.diagnostics if d.code == "formula-fallback-source"]
    assert any("\\href{javascript:alert(1)}{click}" in d.message for d in shown)


@pytest.mark.slow
def test_the_default_bank_has_nothing_to_neutralise(seed_build: Path, tmp_path: Path):
    import shutil

    from deckgen.pipeline import gather

    shutil.copytree(Path(__file__).parent.parent / "source", tmp_path / "source")
    banks = gather(config.load(tmp_path / "source")).banks
    assert [d for b in banks for d in unsafe_latex_in_bank(b)] == []
    for card in cards_json(seed_build)["cards"]:
        for field in ("context", "front", "back"):
            assert "\\backslash\\mathtt{" not in card[field]
            assert "<span>\\</span>" not in card[field]


def _gather_reports_it() -> bool:
    import inspect

    from deckgen import pipeline
    return "unsafe_latex" in inspect.getsource(pipeline)


@pytest.mark.skipif(not _gather_reports_it(), reason="deckgen.pipeline.gather does not call "
                    "deckgen.render.sanitize.unsafe_latex_in_bank yet")
def test_check_reports_unsafe_latex_as_build_does(tmp_path: Path, monkeypatch):
    from deckgen.pipeline import gather

    bank = write_bank(tmp_path / "b", BANK, ANSWERS)
    monkeypatch.chdir(bank)
    cfg = config.override(config.load(bank), formats=("json",), out=tmp_path / "out")
    checked = [d for d in gather(cfg).diagnostics if d.code == "unsafe-latex"]
    assert [str(d.loc) for d in checked] == ["q.md:3", "q.md:7", "q.md:11", "q.md:17",
                                             "q.md:18", "q.md:24", "q.md:24"]
    built = [d for d in build(bank, tmp_path / "out", execute=False).diagnostics
             if d.code == "unsafe-latex"]
    assert built == checked  # (without the cells run, no value is computed)


@pytest.mark.parametrize("tex", [r"\frac{" * 60 + "x" + "}{y}" * 60,
                                 r"\left(" * 50 + "x" + r"\right)" * 50,
                                 "x + " * 2000 + "y"])
def test_a_formula_too_long_or_deep_is_shown_as_its_source(tmp_path: Path, tex: str):
    """Converters recurse (tex2typst ran for minutes on a few thousand nested fractions) and
    so would MathJax on the reviewer's phone: such a formula is text, with a located warning."""
    bank = write_bank(tmp_path / "b", f"1. What is ${tex}$?\n", "## 1\nThat.\n")
    started = time.perf_counter()
    result = build(bank, tmp_path / "out")
    assert time.perf_counter() - started < 60
    front = cards_json(tmp_path / "out")["cards"][0]["front"]
    assert '<code class="tex">' in front and "\\(" not in front
    assert [(d.loc.line, d.code) for d in result.diagnostics
            if "shows it as its source" in d.message or "show it as its source" in d.message
            ] == [(1, "unsafe-latex")]


def test_long_ordinary_formulas_are_still_formulas(tmp_path: Path):
    tex = r"\sum_{i=1}^{n} \left( \frac{a_i}{b_i} \right)^2 + " * 20 + "c"
    ctx = ComposeContext(MediaStore(tmp_path), tmp_path, Location("q.md", 1))
    assert "\\(" in inline_html(compose_inline(f"${tex}$", ctx))


def test_anki_tts_tags_are_text(tmp_path: Path):
    """`[anki:tts]` in a field makes Anki read the text aloud (found by the held-out attacks)."""
    from anki_helpers import import_apkg, new_collection

    bank = write_bank(tmp_path / "b", "1. What is [anki:tts lang=en_US]you were hacked"
                      "[/anki:tts] here?\n", "## 1\nNothing.\n")
    build(bank, tmp_path / "out")
    col = new_collection(tmp_path)
    import_apkg(col, next((tmp_path / "out").glob("*.apkg")))
    card = col.get_card(col.find_cards("")[0])
    assert card.question_av_tags() == [] and "you were hacked" in card.question()
