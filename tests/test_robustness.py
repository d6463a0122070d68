"""Bad input gets a clear message with file and line; nothing hostile reaches a card; a failed
build leaves every previous output as it was. One file per case in tests/bad/."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, build, write_bank
from deckgen import config
from deckgen.errors import BuildFailed, Severity
from deckgen.pipeline import gather

BAD = Path(__file__).parent / "bad"


def bank_from(tmp_path: Path, case: str, answers: str = "") -> Path:
    bank = write_bank(tmp_path / "bank", "", answers)
    shutil.copyfile(BAD / case, bank / "q.md")
    return bank


def diags(bank: Path):
    return [(d.code, d.severity, d.loc.line if d.loc else None, d.message)
            for d in gather(config.load(bank)).diagnostics if d.code != "missing-answer"]


@pytest.mark.parametrize("case,code,severity,line,text", [
    ("unclosed-fence.md", "unclosed-fence", Severity.WARNING, 3, "never closed"),
    ("stray-dollar.md", "stray-dollar", Severity.WARNING, 1, "write \\$ for a literal"),
    ("bad-latex.md", "bad-latex", Severity.WARNING, 1, "'{' never closed"),
    ("duplicate-number.md", "duplicate-question", Severity.ERROR, 5, "used twice"),
    ("empty-question.md", "empty-question", Severity.ERROR, 5, "question 2 is empty"),
    ("non-utf8.md", "encoding", Severity.ERROR, 1, "not valid UTF-8"),
    ("path-escape.md", "unsafe-path", Severity.ERROR, 3, "leaves the bank directory"),
    ("absolute-path.md", "unsafe-path", Severity.ERROR, 3, "is absolute"),
    ("remote-image.md", "remote-image", Severity.WARNING, 3, "not fetched at build time"),
    ("unattributed.md", "unattributed", Severity.WARNING, 5, "belongs to no question"),
])
def test_bad_input_is_reported_with_location(tmp_path, case, code, severity, line, text):
    found = diags(bank_from(tmp_path, case))
    assert any(c == code and s is severity and ln == line and text in m
               for c, s, ln, m in found), found


def test_currency_is_text_not_a_warning(tmp_path):
    bank = bank_from(tmp_path, "currency.md", "## 1\nThe GPU.\n")
    assert diags(bank) == []
    build(bank, tmp_path / "out")
    assert "$5 and a TPU $10" in (tmp_path / "out" / "t.json").read_text()


def test_bom_and_crlf_simply_work(tmp_path):
    bank = bank_from(tmp_path, "bom-crlf.md", "## 1.1\r\nBecause.\r\n\r\n## 1.2\r\nLike so.\r\n")
    assert diags(bank) == []
    result = build(bank, tmp_path / "out")
    assert [c.ref for c in result.deck.cards] == ["Q1.1", "Q1.2"]


def test_hostile_html_never_reaches_the_package(tmp_path):
    bank = bank_from(tmp_path, "hostile.md", "## 1\nYes. <script>alert('a')</script>\n")
    (bank / "img").mkdir()
    shutil.copyfile(Path(__file__).parent / "banks" / "tiny" / "img" / "mlp-1.png",
                    bank / "img" / "x.png")
    build(bank, tmp_path / "out")
    with zipfile.ZipFile(tmp_path / "out" / "t.apkg") as z:
        (tmp_path / "c.anki2").write_bytes(z.read("collection.anki2"))
    import json
    import sqlite3
    con = sqlite3.connect(tmp_path / "c.anki2")
    fields = "\n".join(r[0] for r in con.execute("select flds from notes"))
    # the note types' templates are deckgen's own: their one script (it fits wide formulas
    # to the card) is the only one, and nothing of the bank is in them
    models = json.loads(con.execute("select models from col").fetchone()[0])
    own = (ROOT / "renderers" / "anki" / "fit.html").read_text()
    script = own[own.index("<script>"):own.index("</script>") + len("</script>")]
    templates = "\n".join(t[k].replace(script, "") for m in models.values()
                          for t in m["tmpls"] for k in ("qfmt", "afmt"))
    con.close()
    for needle in ("<script", "onerror", "onclick", "javascript:", "<iframe", "alert("):
        assert needle not in fields and needle not in templates, needle
    assert "Look" in fields and "click</a>" in fields


def test_a_broken_image_file_is_an_error_with_location(tmp_path):
    bank = write_bank(tmp_path / "b", "1. Q?\n\n![x](x.png)\n")
    (bank / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # a header and nothing else
    found = diags(bank)
    assert [(c, ln) for c, _, ln, _ in found] == [("bad-image", 3)]


def test_paths_outside_the_bank_are_refused_even_by_symlink(tmp_path):
    (tmp_path / "secret.png").write_bytes(b"\x89PNG")
    bank = write_bank(tmp_path / "bank", "1. Q?\n\n![s](link.png)\n")
    (bank / "link.png").symlink_to(tmp_path / "secret.png")
    found = diags(bank)
    assert [c for c, *_ in found] == ["unsafe-path"]


def test_very_long_lines_and_huge_files(tmp_path):
    long_line = "1. " + "word " * 200_000 + "?\n"
    huge = "".join(f"{n}. Question {n} with $x_{{{n}}}$?\n\n---\n\n" for n in range(1, 5001))
    for name, text in (("long", long_line), ("huge", huge)):
        bank = write_bank(tmp_path / name, text)
        g = gather(config.load(bank))
        assert not g.errors, (name, g.errors[:3])
        assert g.banks[0].questions
    long = [d for d in gather(config.load(tmp_path / "long")).diagnostics
            if d.code == "long-line"]
    assert [(d.loc.line, d.severity) for d in long] == [(1, Severity.WARNING)]


def _found(tmp_path: Path, questions: str, answers: str = "") -> list[tuple[str, int]]:
    bank = write_bank(tmp_path / "b", questions, answers)
    return [(d.code, d.loc.line) for d in gather(config.load(bank)).diagnostics
            if d.code == "too-deep"]


@pytest.mark.parametrize("body, line", [
    ("".join("    " * i + "1. level\n" for i in range(60)), 18),  # numbered levels
    ("".join("   " + "  " * i + "- level\n" for i in range(40)), 17),  # bullets in a part
    ("   " + "> " * 5000 + "x\n", 2),  # quotes
    ("   - > - > - > - > - > - > - > - > - x\n", 2),  # both, on one line
    ("   " + "*" * 20_000 + "x" + "*" * 20_000 + "\n", 2),  # emphasis (a RecursionError once)
    ("   " + "_*" * 30 + "x" + "*_" * 30 + "\n", 2),
])
def test_nesting_past_the_limits_is_an_error_on_its_line(tmp_path, body, line):
    assert _found(tmp_path, "1. Top?\n" + body + "\n2. After?\n") == [("too-deep", line)]


def test_nesting_within_the_limits_is_read_whole(tmp_path):
    """Fifteen levels lost every line after the tenth before (markdown-it's nesting limit
    dropped the rest of the file), the next question included."""
    items = "".join("   " + "  " * i + f"- level {i}\n" for i in range(15))
    rule = "\n" + "*" * 80 + "\n"  # a thematic break, not emphasis
    code = "\n   ```\n" + "".join("   " + "> " * 30 + "\n" for _ in range(2)) + "   ```\n"
    bank = write_bank(tmp_path / "b", "1. Top?\n" + items + code + "\n   " + "*" * 24
                      + "deep" + "*" * 24 + "\n" + rule + "\n2. After?\n")
    g = gather(config.load(bank))
    assert not g.errors, g.errors
    assert [q.number for q in g.banks[0].questions] == [1, 2]
    text = " ".join(b.markdown for b in g.banks[0].questions[0].stem)
    assert "level 14" in text and "deep" in text


def test_an_answers_file_past_the_limits_is_an_error_on_its_line(tmp_path):
    answers = "## 1\n\nFine.\n\n## 2\n\n" + "> " * 40 + "deep\n"
    assert _found(tmp_path, "1. One?\n\n2. Two?\n", answers) == [("too-deep", 7)]


def test_unknown_answer_key_and_bad_options_are_located(tmp_path):
    bank = write_bank(tmp_path / "b", "1. Q?\n", "## 1\nA.\n\n## 2.3\nNo such part.\n\n## x\n?\n")
    found = diags(bank)
    assert ("unknown-answer-key", Severity.ERROR, 4) in [(c, s, ln) for c, s, ln, _ in found]
    assert ("bad-answer-key", Severity.ERROR, 7) in [(c, s, ln) for c, s, ln, _ in found]


def _outputs(out: Path, bank: Path) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    files["lock"] = (bank / "deckgen.lock").read_bytes()
    return files


@pytest.mark.slow
@pytest.mark.parametrize("cell,code", [
    ("import os\nos._exit(3)", "worker-died"),
    ("raise SystemExit(2)", "cell-error"),
    ("x = bytearray(64 * 1024**3)", "cell-error"),  # over the memory cap: MemoryError
])
def test_a_cell_that_breaks_its_worker_leaves_previous_outputs_untouched(tmp_path, cell, code):
    bank = write_bank(tmp_path / "b", "1. Q?\n\n---\n\n2. R?\n", "## 1\nFine.\n\n## 2\nAlso.\n")
    out = tmp_path / "out"
    build(bank, out)
    before = _outputs(out, bank)
    (bank / "answers" / "a.md").write_text(f"## 1\nFine.\n\n## 2\n```{{python}}\n{cell}\n```\n")
    with pytest.raises(BuildFailed) as info:
        build(bank, out)
    assert any(d.code == code and d.loc.path.endswith("a.md") for d in info.value.diagnostics)
    assert _outputs(out, bank) == before
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow
def test_huge_output_is_truncated_not_fatal(tmp_path):
    from deckgen.render.html import field_html

    bank = write_bank(tmp_path / "b", "1. Q?\n",
                      "## 1\n```{python}\nprint('x' * 100_000_000)\n```\n")
    result = build(bank, tmp_path / "out")
    back = field_html(result.deck.cards[0].back)
    assert "more characters of output not shown" in back and len(back) < 300_000


def test_interrupted_write_leaves_previous_outputs(tmp_path, monkeypatch):
    bank = write_bank(tmp_path / "b", "1. Q?\n", "## 1\nA.\n")
    out = tmp_path / "out"
    build(bank, out)
    before = _outputs(out, bank)
    (bank / "answers" / "a.md").write_text("## 1\nA, edited.\n")

    from deckgen.render import jsonlist

    def interrupted(self, deck, target):
        raise KeyboardInterrupt  # Ctrl-C after the .apkg was produced, before the JSON

    monkeypatch.setattr(jsonlist.JsonRenderer, "render", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build(bank, out)
    assert _outputs(out, bank) == before
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
