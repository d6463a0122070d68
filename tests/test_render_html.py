"""Markdown -> card HTML: math delimiters, code, braces, cloze fills, hostile HTML, media."""

from __future__ import annotations

from pathlib import Path

from deckgen.compose import ComposeContext, compose
from deckgen.content import Blank, Text, replace_blanks
from deckgen.errors import Location
from deckgen.media import MediaStore
from deckgen.render.html import field_html
from deckgen.render.sanitize import sanitize


def render(md: str, root: Path | None = None) -> tuple[str, ComposeContext]:
    root = root or Path("/nonexistent")
    ctx = ComposeContext(MediaStore(root), root, Location("q.md", 10))
    return field_html(compose(md, ctx)), ctx


def test_inline_and_display_math_use_anki_delimiters():
    html, _ = render("Let $a < b$ and\n\n$$\nx^2 \\& y\n$$\n")
    assert "\\(a &lt; b\\)" in html
    assert '<div class="math">\\[x^2 \\&amp; y\\]</div>' in html
    assert "$" not in html


def test_equation_environment_is_unwrapped_keeping_the_tag():
    html, _ = render("$$\n\\begin{equation}\nA = 1\n\\tag{8.4}\n\\end{equation}\n$$\n")
    assert "\\begin{equation}" not in html and "\\tag{8.4}" in html


def test_no_line_break_tags_inside_a_formula():
    html, _ = render("$$output = \\begin{cases}\n 0, & x \\\\\n 1, & y\n\\end{cases}$$\n")
    formula = html[html.index("\\["):html.index("\\]")]
    assert "<br" not in formula and "<p" not in formula


def test_currency_is_not_math_and_dollars_in_code_stay():
    html, _ = render("It costs $5 and $10. Run `echo $HOME $x$`.")
    assert "\\(" not in html
    assert "<code>echo $HOME $x$</code>" in html


def test_code_blocks_use_pygments_classes_not_inline_colours():
    html, _ = render("```python\nimport torch\n```\n")
    assert 'class="highlight lang-python"' in html and '<span class="kn">import</span>' in html
    assert "style=" not in html


def test_literal_double_braces_cannot_open_a_cloze():
    html, _ = render("Template `{{c1::x}}` and text {{c2::y}}.")
    assert "{{c" not in html and "}}" not in html


def test_cloze_fill_is_made_safe():
    front = (Text("a "), Blank(1), Text(" b "), Blank(2), Text(" c "), Blank(3))
    out = field_html(replace_blanks(front, [(Text("\\frac{1}{2}"),), (Text("x::y"),),
                                            (Text("{a}}b"),)]))
    assert out == "a {{c1::\\frac{1}{2} }} b {{c2::x: :y}} c {{c3::{a&#125;}b}}"


def test_hostile_html_is_removed():
    html, _ = render('<p onclick="x()">hi<script>alert(1)</script></p>\n\n'
                     '<a href="javascript:alert(1)">link</a> <img src=x onerror="alert(1)">')
    assert "script" not in html and "onclick" not in html and "onerror" not in html
    assert "javascript:" not in html and "alert" not in html
    assert ">hi<" in html and ">link</a>" in html


def test_sanitize_keeps_safe_tables_and_links():
    out = sanitize('<table><tr><td align="center" style="x">a</td></tr></table>'
                   '<a href="https://e.org" target="_blank">e</a>')
    assert out == ('<table><tr><td align="center">a</td></tr></table>'
                   '<a href="https://e.org">e</a>')


def test_images_get_content_hashed_names_and_missing_ones_are_errors(tmp_path):
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + b"\0" * 20
                                             + b"IEND\xaeB`\x82")
    html, ctx = render("![A](img/a.png) ![B](img/missing.png)", tmp_path)
    names = list(ctx.media.files)
    assert len(names) == 1 and names[0].startswith("deckgen-") and names[0].endswith(".png")
    assert f'src="{names[0]}"' in html
    assert [d.code for d in ctx.diagnostics] == ["missing-image"]
    assert str(ctx.diagnostics[0]).startswith("q.md:10: error: image 'img/missing.png' not found")


def test_image_paths_may_not_leave_the_bank(tmp_path):
    bank = tmp_path / "bank"
    bank.mkdir()
    (tmp_path / "secret.png").write_bytes(b"x")
    (bank / "link.png").symlink_to(tmp_path / "secret.png")
    _, ctx = render("![a](../secret.png) ![b](/etc/passwd) ![c](link.png) "
                    "![d](https://example.org/x.png)", bank)
    assert ctx.media.files == {}
    assert [d.code for d in ctx.diagnostics] == ["unsafe-path", "unsafe-path", "unsafe-path",
                                                 "remote-image"]


def test_typst_bars_become_abs_and_norm_only_when_they_pair_up():
    from deckgen.render.typst_markup import tighten_bars
    assert tighten_bars("| x_1 - x_2 | + | y_1 - y_2 |") == "abs(x_1 - x_2) + abs(y_1 - y_2)"
    assert tighten_bars("bar.v.double v_1 - v_2 bar.v.double") == "norm(v_1 - v_2)"
    assert tighten_bars("p(a | b) q(c | d)") == "p(a | b) q(c | d)"
