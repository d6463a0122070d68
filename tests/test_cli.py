"""The command line, driven with click's CliRunner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT, write_bank
from deckgen.cli import main


def run(*args: str, cwd: Path | None = None):
    runner = CliRunner()
    old = os.getcwd()
    os.chdir(cwd or ROOT)
    try:
        return runner.invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


@pytest.mark.parametrize("command", [[], ["build"], ["check"], ["list"]])
def test_help(command):
    result = run(*command, "--help")
    assert result.exit_code == 0 and "Usage:" in result.output


def test_check_default_bank_has_no_unanswered_parts_and_no_errors():
    result = run("check")
    assert result.exit_code == 0, result.output
    assert "96 questions, 183 parts, 0 unanswered; 0 error(s), 0 warning(s)" in result.output


def test_list_shows_keys_kinds_and_locations():
    result = run("list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert any(line.split()[:2] == ["58.2", "cloze,"] for line in lines)
    assert any("61.2" in line and "choice" in line and ".md:958" in line for line in lines)


def test_check_reports_problems_as_file_line_and_fails(tmp_path):
    bank = write_bank(tmp_path / "b", "1. What?\n\n---\n\n2. Why?\n\n![x](img/none.png)\n",
                      "## 1\nBecause.\n\n## 9\nNo such question.\n")
    result = run("check", str(bank), cwd=tmp_path)
    assert result.exit_code == 1
    assert "b/answers/a.md:4: error: answer 9 matches no question" in result.output
    assert "b/q.md:5: warning: 2 has no answer [deckgen.missing-answer]" in result.output


def test_strict_turns_warnings_into_failure(tmp_path):
    bank = write_bank(tmp_path / "b", "1. What?\n")
    assert run("check", str(bank), cwd=tmp_path).exit_code == 0
    assert run("check", "--strict", str(bank), cwd=tmp_path).exit_code == 1


def test_build_writes_outputs_and_a_failed_build_keeps_them(tmp_path):
    bank = write_bank(tmp_path / "b", "1. What?\n", "## 1\nThis.\n")
    result = run("build", str(bank), "--out", "out", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    apkg, js = tmp_path / "out" / "t.apkg", tmp_path / "out" / "t.json"
    before = apkg.read_bytes(), js.read_bytes()
    (bank / "q.md").write_text("1. What?\n\n![x](missing.png)\n")
    result = run("build", str(bank), "--out", "out", cwd=tmp_path)
    assert result.exit_code == 1
    assert "b/q.md:3: error: image 'missing.png' not found" in result.output
    assert "previous outputs were kept" in result.output
    assert (apkg.read_bytes(), js.read_bytes()) == before


def test_format_flag_and_unknown_format(tmp_path):
    bank = write_bank(tmp_path / "b", "1. What?\n", "## 1\nThis.\n")
    assert run("build", str(bank), "-o", "out", "-f", "json", cwd=tmp_path).exit_code == 0
    assert [p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")] == \
        ["t.json"]
    result = run("build", str(bank), "-o", "out", "-f", "json,xls,doc", cwd=tmp_path)
    assert result.exit_code == 1 and "unknown output format(s): xls, doc" in result.output


def test_missing_bank_is_a_clean_error(tmp_path):
    result = run("build", "nowhere", cwd=tmp_path)
    assert result.exit_code == 1 and "no question bank at 'nowhere'" in result.output
    assert "Traceback" not in result.output
