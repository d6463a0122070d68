"""`deckgen check` sees what `deckgen build` sees: over every bad input and every parser
fixture, the diagnostics of a build (without running cells) equal those of check."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_bank
from deckgen import config
from deckgen.errors import BuildFailed
from deckgen.pipeline import build, gather
from deckgen.render.typst_markup import MATH_FORMAT, MathConverter

TESTS = Path(__file__).resolve().parent
QUESTION_FILES = sorted((TESTS / "bad").glob("*.md")) + sorted(
    (TESTS / "fixtures" / "parse").glob("*/*.md")) + [TESTS / "bad" / "answers" / "shapes.md"]
BUILD_ONLY = {"not-computed"}  # --no-exec's note that a cell was not run


def _key(d):
    return (d.code, d.severity.value, str(d.loc) if d.loc else "", d.message)


def _bank(tmp_path: Path, question_file: Path) -> Path:
    answers = question_file.with_name(question_file.stem + ".answers.md")
    bank = write_bank(tmp_path / "bank", "", answers.read_text() if answers.exists() else "")
    shutil.copyfile(question_file, bank / "q.md")
    return bank


@pytest.mark.parametrize("question_file", QUESTION_FILES,
                         ids=[str(p.relative_to(TESTS)) for p in QUESTION_FILES])
def test_check_reports_what_build_reports(tmp_path, monkeypatch, question_file):
    bank = _bank(tmp_path, question_file)
    monkeypatch.chdir(bank)
    cfg = config.override(config.load(bank), out=tmp_path / "out", formats=("apkg", "json"))
    checked = {_key(d) for d in gather(cfg).diagnostics}
    try:
        built = build(cfg, execute=False).diagnostics
    except BuildFailed as exc:
        built = exc.diagnostics
    assert {_key(d) for d in built if d.code not in BUILD_ONLY} == checked


def test_the_answer_shape_case_really_fails_in_both(tmp_path, monkeypatch):
    bank = _bank(tmp_path, TESTS / "bad" / "answers" / "shapes.md")
    monkeypatch.chdir(bank)
    found = {d.code for d in gather(config.load(bank)).diagnostics}
    assert {"no-verdict", "bad-correct-options", "cloze-fill-count", "missing-image",
            "unknown-answer-key"} <= found, found


def test_a_bad_print_table_is_found_by_check_and_stops_build_alike(tmp_path, monkeypatch):
    bank = _bank(tmp_path, TESTS / "fixtures" / "parse" / "heading" / "labels.md")
    with (bank / "deckgen.toml").open("a") as f:
        f.write('\n[print]\nlayout = "sideways"\nback_offset = "abc"\n')
    monkeypatch.chdir(bank)
    cfg = config.override(config.load(bank), out=tmp_path / "out")
    checked = {_key(d) for d in gather(cfg).diagnostics}
    assert {c for c, *_ in checked} >= {"print-options"}
    with pytest.raises(BuildFailed) as failed:
        build(cfg, execute=False)
    assert {_key(d) for d in failed.value.diagnostics} == checked
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").glob("*.apkg"))


# -- formulas the printed cards can only show as their source ---------------------------------
# `deckgen check` finds them before any cell runs: the same warnings, text and file:line as a
# build with the PDF. \newcommand, \def and \frac{a} defeat both tex2typst and ziamath.

FORMULA_QUESTIONS = r"""## Algebra

1. Let $\newcommand{\R}{\mathbb{R}}$ be the reals.

    1. What is $\R^2$?
    2. What is $\R^3$?

---

2. Which of the following are sets? Choose all that apply.

    1. $\mathbb{N}$
    2. $\def\y{2}$
    3. $a < b$ and $\{\{x\}\}$

---

3. The sum $x + y$ of $x$ and $y$ is [...].

---

4. **True or False:** $\sqrt{2}$ is rational.

---

5. What is $$\int_0^1 x\,dx$$ ?
"""
FORMULA_ANSWERS = r"""## 1.1
The plane $\mathbb{R}^2$.

## 1.2
Space: $$\frac{a}$$ and again $\frac{a}$.

## 2
Correct: 1

## 3
1. $\def\z{{1}}$

## 4
False: $\sqrt{2} = p/q$ has no solution.

## 5
$\frac{1}{2}$, since $$\begin{equation}x^2/2 \tag{1}\end{equation}$$
"""
# (card, line, formula) of every warning, in card order: a stem's formula on each of its
# parts' cards, a formula twice on one card once, an option's and a cloze fill's too
FORMULA_WARNINGS = [("Q1.1", 5, r"\newcommand{\R}{\mathbb{R}}"),
                    ("Q1.2", 6, r"\newcommand{\R}{\mathbb{R}}"),
                    ("Q1.2", 6, r"\frac{a}"),
                    ("Q2", 10, r"\def\y{2}"),
                    ("Q3", 18, r"\def\z{{1}}")]
# a formula with an inline {python} value is known only once the cell ran
PYTHON_QUESTIONS = "1. What is $v$?\n\n---\n\n2. And $w$?\n"
PYTHON_ANSWERS = "## 1\n$\\def\\v{`{python} v`}$, or $v = `{python} v`$.\n\n## 2\n$\\def\\w{2}$\n"


def _formula_bank(tmp_path: Path, questions: str = FORMULA_QUESTIONS,
                  answers: str = FORMULA_ANSWERS, toml: str = "") -> Path:
    bank = write_bank(tmp_path / "bank", questions, answers)
    if toml:
        with (bank / "deckgen.toml").open("a") as f:
            f.write(toml)
    return bank


def _run_check(bank: Path):
    from click.testing import CliRunner

    from deckgen.cli import main
    return CliRunner().invoke(main, ["check", str(bank)], catch_exceptions=False)


def _static(cfg):
    from deckgen.render.pdf import static_formula_warnings
    return static_formula_warnings(gather(cfg).banks, cfg.cache_dir, cfg.print_options)


def _fallback(diags):
    return [d for d in diags if d.code == "formula-fallback-source"]


def _expected(warnings):
    return [(ref, f"q.md:{line}", formula) for ref, line, formula in warnings]


def _seen(diags):
    """(card, file:line, formula) of each warning, from its message."""
    out = []
    for d in _fallback(diags):
        ref, rest = d.message.split(": formula '", 1)
        out.append((ref, str(d.loc), rest.split("' cannot be typeset", 1)[0]))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("toml,warnings", [
    ("", FORMULA_WARNINGS),
    ('\n[print]\nquestions = "2-3"\n', FORMULA_WARNINGS[3:]),  # only the printed cards count
], ids=["all", "selection"])
def test_check_reports_the_formulas_a_pdf_build_prints_as_source(tmp_path, monkeypatch, toml,
                                                                 warnings):
    bank = _formula_bank(tmp_path, toml=toml)
    monkeypatch.chdir(bank)
    checked = _run_check(bank)
    assert checked.exit_code == 0, checked.output
    cfg = config.load(bank)
    assert "pdf" in cfg.formats
    built = build(cfg, execute=False).diagnostics
    assert _seen(built) == _expected(warnings)
    # the command prints exactly the build's diagnostics, formulas included
    assert set(checked.stderr.splitlines()) == {str(d) for d in built if d.code not in BUILD_ONLY}
    # the same (code, severity, location, message), in the same order
    assert [_key(d) for d in _static(cfg)] == [_key(d) for d in _fallback(built)]
    unsafe = sum(d.code == "unsafe-latex" for d in built)  # \newcommand, \def: inert too
    assert f"0 error(s), {len(warnings) + unsafe} warning(s)" in checked.stdout


def test_check_leaves_formulas_alone_when_there_is_no_pdf(tmp_path, monkeypatch):
    bank = _formula_bank(tmp_path, toml='formats = ["apkg", "json"]\n')
    monkeypatch.chdir(bank)
    checked = _run_check(bank)
    assert checked.exit_code == 0 and "formula-fallback-source" not in checked.output
    assert not (bank / "build").exists()


@pytest.mark.slow
def test_formulas_with_an_inline_python_value_are_left_to_the_build(tmp_path, monkeypatch):
    bank = _formula_bank(tmp_path, PYTHON_QUESTIONS, PYTHON_ANSWERS)
    monkeypatch.chdir(bank)
    cfg = config.load(bank)
    static = _static(cfg)
    assert _seen(static) == [("Q2", "q.md:5", r"\def\w{2}")]
    # the build (here without running the cell: its value is \text{?}) warns about it too
    built = _fallback(build(cfg, execute=False).diagnostics)
    assert _seen(built) == [("Q1", "q.md:1", r"\def\v{\text{?}}"), *_seen(static)]
    assert [_key(d) for d in static] == [_key(d) for d in built[1:]]
    # check neither converted nor remembered it
    stored = json.loads((cfg.cache_dir / "pdf" / f"math-{MATH_FORMAT}.json").read_text())
    assert not any("\ue002" in key for key in stored)


def _tree(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None
            for p in sorted(root.rglob("*"))}


@pytest.mark.slow
def test_check_writes_only_the_cache_and_the_build_reuses_it(tmp_path, monkeypatch):
    bank = _formula_bank(tmp_path)
    (bank / "build").mkdir()
    (bank / "build" / "t.json").write_text("{}")  # an output of an earlier build
    monkeypatch.chdir(bank)
    before = _tree(tmp_path)
    first = _run_check(bank)
    after = _tree(tmp_path)
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    assert changed and all(p.startswith("bank/build/cache") for p in changed), changed
    assert f"bank/build/cache/pdf/math-{MATH_FORMAT}.json" in changed

    # a second check and the build convert nothing: every formula comes from the cache
    def converting(*args):
        raise AssertionError(f"converted again: {args}")
    monkeypatch.setattr(MathConverter, "_convert", converting)
    again = _run_check(bank)
    assert again.stderr == first.stderr and _tree(tmp_path) == after
    built = build(config.load(bank), execute=False)
    assert _seen(built.diagnostics) == _expected(FORMULA_WARNINGS)


@pytest.mark.slow
@pytest.mark.parametrize("which", ["formulas", "default-bank"])
def test_check_sees_the_formulas_the_pdf_sees(tmp_path, monkeypatch, which):
    """Every formula the PDF converter is given, check gives it too (the ones with an inline
    {python} value aside: without the cells run, the build's hold \\text{?})."""
    if which == "default-bank":
        shutil.copytree(TESTS.parent / "source", tmp_path / "source")
        bank = tmp_path / "source"
    else:
        bank = _formula_bank(tmp_path, FORMULA_QUESTIONS + "\n---\n\n" +
                             PYTHON_QUESTIONS.replace("1.", "6.").replace("2.", "7."),
                             FORMULA_ANSWERS + "\n" +
                             PYTHON_ANSWERS.replace("## 1", "## 6").replace("## 2", "## 7"))
    monkeypatch.chdir(bank)
    seen: list[tuple[str, bool]] = []
    convert = MathConverter.__call__

    def recording(self, tex: str, display: bool) -> str:
        seen.append((tex, display))
        return convert(self, tex, display)
    monkeypatch.setattr(MathConverter, "__call__", recording)
    cfg = config.load(bank)
    static = _static(cfg)
    checked, seen[:] = set(seen), []
    built = build(cfg, execute=False)
    printed = set(seen)
    assert checked and checked <= printed
    assert {f for f in printed - checked} == {f for f in printed if r"\text{?}" in f[0]}
    assert any(r"\text{?}" in f for f, _ in printed)  # the bank has such formulas
    assert [_key(d) for d in static] == [_key(d) for d in _fallback(built.diagnostics)
                                         if r"\text{?}" not in d.message]


@pytest.mark.slow
def test_check_imports_no_heavy_library(tmp_path):
    bank = _formula_bank(tmp_path)
    code = ("import sys\nfrom deckgen.cli import main\n"
            "try:\n    main(['check', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'torch', 'matplotlib', 'sympy', 'numpy'}))\n")
    done = subprocess.run([sys.executable, "-c", code, str(bank)], text=True,
                          capture_output=True, check=True, cwd=bank)
    assert "formula-fallback-source" in done.stderr  # it did look at the formulas
    assert done.stdout.strip().splitlines()[-1] == "[]"
