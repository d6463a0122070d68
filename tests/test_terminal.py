"""How deckgen behaves in a terminal: NO_COLOR, Ctrl-C, option values."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from conftest import build, write_bank
from deckgen.cli import main

BAD = "## S\n\n1. What?\n"  # no answer: a warning, printed in colour


def test_no_color_turns_colours_off(tmp_path: Path):
    bank = write_bank(tmp_path / "b", BAD)
    coloured = CliRunner().invoke(main, ["check", str(bank)], color=True)
    assert "\x1b[" in coloured.output
    plain = CliRunner().invoke(main, ["check", str(bank)], color=True, env={"NO_COLOR": "1"})
    assert "\x1b[" not in plain.output and "has no answer" in plain.output


def test_ctrl_c_exits_130_and_keeps_the_outputs(tmp_path: Path, monkeypatch):
    from deckgen import pipeline

    bank = write_bank(tmp_path / "b", BAD, "## 1\nThat.\n")
    out = tmp_path / "out"
    build(bank, out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    (bank / "answers" / "a.md").write_text("## 1\nThis, edited.\n")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(pipeline, "make_deck", interrupted)
    result = CliRunner().invoke(main, ["build", str(bank), "-o", str(out)])
    assert result.exit_code == 130, result.output
    assert "interrupted (Ctrl-C)" in result.output
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_a_bad_option_value_is_an_error_not_a_traceback(tmp_path: Path):
    bank = write_bank(tmp_path / "b", BAD, "## 1\nThat.\n")
    for args in (["--back-offset", "abc"], ["--questions", "x-y"], ["--layout", "sideways"],
                 ["--jobs", "0"], ["--format", "docx"]):
        result = CliRunner().invoke(main, ["build", str(bank), "-f", "pdf", *args])
        assert result.exit_code in (1, 2), (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), args
        assert "Traceback" not in result.output, args


def test_long_phases_report_progress(tmp_path: Path):
    bank = write_bank(tmp_path / "b", "## S\n\n1. What?\n\n---\n\n2. And?\n",
                      "## 1\n```{python}\nprint(1)\n```\n\n## 2\nThis.\n")
    calls: list[tuple] = []

    def progress(done, total, label, phase="Running cells"):
        calls.append((phase, done, total))
    build(bank, tmp_path / "out", progress=progress)
    phases = {c[0] for c in calls}
    assert phases == {"Running cells", "Typesetting cards"}
    for phase in phases:  # each phase counts up to its total
        mine = [c for c in calls if c[0] == phase]
        assert mine[-1][1] == mine[-1][2] and [c[1] for c in mine] == list(range(1, len(mine) + 1))


def test_quiet_and_verbose(tmp_path: Path):
    bank = write_bank(tmp_path / "b", BAD)
    loud = CliRunner().invoke(main, ["check", str(bank)])
    quiet = CliRunner().invoke(main, ["check", str(bank), "-q"])
    assert "has no answer" in loud.output and "has no answer" not in quiet.output
    assert "0 error(s), 1 warning(s)" in quiet.output  # the summary stays
    verbose = CliRunner().invoke(main, ["build", str(bank), "-f", "json", "-v"])
    assert verbose.exit_code == 0, verbose.output
    assert "  read and check the bank: " in verbose.output and "  render json: " in verbose.output
