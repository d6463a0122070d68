"""--no-exec is for banks you did not write: no code runs in any command, the bank's files
and outputs stay inside its folder, and its templates are not used."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner

from conftest import write_bank
from deckgen.cli import main


def run(cwd: Path, *args: str):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def test_diff_with_no_exec_runs_no_cell(tmp_path):
    marker = tmp_path / "ran"
    bank = write_bank(tmp_path / "b", "1. What?\n",
                      f"## 1\n```{{python}}\nopen({str(marker)!r}, 'w').write('x')\n```\n")
    run(bank, "diff", "--no-exec")
    assert not marker.exists()
    run(bank, "diff")  # without it, diff computes what it needs
    assert marker.exists()


def test_outputs_sent_outside_the_bank_are_refused(tmp_path):
    bank = write_bank(tmp_path / "b", "1. What?\n", "## 1\nThat.\n")
    with (bank / "deckgen.toml").open("a") as f:
        f.write('out = "../elsewhere"\n')
    result = run(tmp_path, "build", str(bank), "--no-exec", "-f", "json")
    assert result.exit_code == 1 and "may not send outputs outside" in result.output
    assert not (tmp_path / "elsewhere").exists()
    ok = run(tmp_path, "build", str(bank), "--no-exec", "-f", "json", "--out", "mine")
    assert ok.exit_code == 0 and (tmp_path / "mine" / "t.json").exists()


def test_question_files_outside_the_bank_are_refused(tmp_path):
    (tmp_path / "secret.md").write_text("1. Not yours?\n")
    bank = write_bank(tmp_path / "b", "1. What?\n")
    (bank / "deckgen.toml").write_text('sources = ["../secret.md"]\n')
    result = run(tmp_path, "build", str(bank), "--no-exec", "-f", "json")
    assert result.exit_code == 1 and "must lie inside its folder" in result.output


def test_a_banks_templates_are_not_used(tmp_path):
    bank = write_bank(tmp_path / "b", "1. What?\n", "## 1\nThat.\n")
    (bank / "tpl" / "anki").mkdir(parents=True)
    (bank / "tpl" / "anki" / "front.html").write_text("<script>alert(1)</script>{{Front}}")
    with (bank / "deckgen.toml").open("a") as f:
        f.write('templates = "tpl"\n')
    result = run(tmp_path, "build", str(bank), "--no-exec", "-f", "apkg")
    assert result.exit_code == 0, result.output
    assert "templates" in result.output and "not used" in result.output
    import zipfile
    with zipfile.ZipFile(bank / "build" / "t.apkg") as z:
        assert not any(b"alert(1)" in z.read(n) for n in z.namelist())
