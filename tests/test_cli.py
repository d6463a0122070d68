"""The command line, driven with click's CliRunner."""

from __future__ import annotations

import os
import shutil
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


def test_check_default_bank_has_no_unanswered_parts_and_no_errors(tmp_path):
    # on a copy: check keeps the formulas it converted for the PDF in the build cache
    shutil.copytree(ROOT / "source", tmp_path / "source")
    result = run("check", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "96 questions, 183 parts, 0 unanswered; 0 error(s), 0 warning(s)" in result.output


def test_list_shows_style_keys_kinds_first_words_and_lines():
    result = run("list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "numbered style (detected), 96 questions, 183 cards" in lines[0]
    assert any(line.split()[:3] == ["58.2", "cloze", "(4"] for line in lines)
    assert any(line.split()[:2] == ["61.2", "choice"] and line.endswith("line 960")
               for line in lines)
    assert any(line.split()[:3] == ["2.1", "open", "answered"] and
               "What is the purpose of following Python" in line for line in lines)


def test_list_of_a_file_without_questions_fails_and_says_why(tmp_path):
    (tmp_path / "notes.md").write_text("# Notes\n\nJust some prose about nothing.\n")
    result = run("list", str(tmp_path / "notes.md"), cwd=tmp_path)
    assert result.exit_code == 1
    assert "notes.md:1: error: no questions found in notes.md" in result.output


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


# -- a bank's own name and place ---------------------------------------------------------------

def invoke(*args: str):
    """Run the CLI in the current directory (tests set it with monkeypatch.chdir)."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def files_in(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


def test_outputs_go_beside_the_bank_not_into_the_working_directory(tmp_path, monkeypatch):
    bank = write_bank(tmp_path / "b", "1. What?\n", "## 1\nThis.\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = invoke("build", str(bank), "-f", "json")
    assert result.exit_code == 0, result.output
    assert (bank / "build" / "t.json").is_file()
    lone = tmp_path / "notes"
    lone.mkdir()
    (lone / "my_notes.md").write_text("1. What?\n")
    result = invoke("build", str(lone / "my_notes.md"), "-f", "json")
    assert result.exit_code == 0, result.output
    assert (lone / "build" / "my-notes.json").is_file()
    assert files_in(elsewhere) == []  # nothing written where the command ran


def test_out_flag_is_relative_to_the_working_directory(tmp_path, monkeypatch):
    bank = write_bank(tmp_path / "b", "1. What?\n", "## 1\nThis.\n")
    monkeypatch.chdir(tmp_path)
    assert invoke("build", "b", "-f", "json", "--out", "mine").exit_code == 0
    assert (tmp_path / "mine" / "t.json").is_file() and not (bank / "build").exists()


def test_name_flag_overrides_deckgen_toml(tmp_path, monkeypatch):
    import json

    bank = write_bank(tmp_path / "b", "# Heading\n\n1. What?\n", "## 1\nThis.\n")
    monkeypatch.chdir(tmp_path)
    result = invoke("build", "b", "-f", "apkg,json", "--name", "Other Deck")
    assert result.exit_code == 0, result.output
    assert json.loads((bank / "build" / "other-deck.json").read_text())["deck"] == "Other Deck"
    assert not (bank / "build" / "t.json").exists()
    # diff compares with the package of the deck it is told about
    same = json.loads(invoke("diff", "b", "--name", "Other Deck", "--json").output)
    assert same["counts"]["unchanged"] == 1 and same["counts"]["new"] == 0
    other = json.loads(invoke("diff", "b", "--json").output)
    assert other["counts"]["new"] == 1
    for command in ("check", "list"):
        assert invoke(command, "b", "--name", "X").exit_code == 0
    result = invoke("build", "b", "-f", "json", "--name", " ")
    assert result.exit_code == 1 and "deck name may not be empty" in result.output


def test_build_without_source_in_a_folder_of_md_files(tmp_path, monkeypatch):
    import json

    (tmp_path / "01-basics.md").write_text("# 📚 Interview *questions*\n\n1. What?\n")
    (tmp_path / "README.md").write_text("# About\n\nNot questions.\n")
    monkeypatch.chdir(tmp_path)
    result = invoke("build", "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "build" / "interview-questions.json").read_text())
    assert data["deck"] == "Interview questions" and len(data["cards"]) == 1


def test_no_source_and_no_bank_here_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "README.md").write_text("# About\n")
    monkeypatch.chdir(tmp_path)
    result = invoke("build")
    assert result.exit_code == 1
    assert "no question bank here: there is no ./source directory" in result.output
    assert "Traceback" not in result.output and files_in(tmp_path) == ["README.md"]


def test_a_readme_named_on_the_command_line_is_read(tmp_path, monkeypatch):
    import json

    (tmp_path / "README.md").write_text("# Readme bank\n\n1. What is in a README?\n")
    monkeypatch.chdir(tmp_path)
    result = invoke("build", "README.md", "-f", "json")
    assert result.exit_code == 0, result.output
    [card] = json.loads((tmp_path / "build" / "readme-bank.json").read_text())["cards"]
    assert "What is in a README?" in card["front"] and card["source"]["line"] == 3
    result = invoke("check", ".")
    assert result.exit_code == 1 and "no question files in ." in result.output


def test_new_refuses_a_directory_that_is_not_empty(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.md").write_text("mine\n")
    result = invoke("new", "taken")
    assert result.exit_code == 1 and "'taken' is not empty" in result.output
    assert files_in(tmp_path) == ["taken", "taken/notes.md"]
    assert (tmp_path / "taken" / "notes.md").read_text() == "mine\n"
    (tmp_path / "a-file").write_text("x")
    result = invoke("new", "a-file")
    assert result.exit_code == 1 and "exists and is not a directory" in result.output


def test_new_fills_an_empty_directory_and_quotes_the_name(tmp_path, monkeypatch):
    import tomllib

    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    result = invoke("new", "empty", "--name", 'A "quoted" \\ name')
    assert result.exit_code == 0, result.output
    assert files_in(tmp_path / "empty") == ["README.md", "answers", "answers/answers.md",
                                            "deckgen.toml", "questions.md"]
    settings = tomllib.loads((tmp_path / "empty" / "deckgen.toml").read_text())
    assert settings["name"] == 'A "quoted" \\ name'
    assert "deckgen build" in (tmp_path / "empty" / "README.md").read_text()
    assert "next: cd empty && deckgen check && deckgen build" in result.output


def test_new_leaves_nothing_when_it_fails(tmp_path, monkeypatch):
    import os

    from deckgen import scaffold

    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    original_files, original_rename = scaffold.files, os.rename

    def broken_files(name):  # a file under a file: writing fails half-way
        return {**original_files(name), "answers/answers.md/oops": "x"}

    with monkeypatch.context() as patch:
        patch.setattr(scaffold, "files", broken_files)
        for target in ("fresh", "empty"):
            result = invoke("new", target)
            assert result.exit_code == 1 and f"cannot create '{target}'" in result.output
    renames = []

    def flaky_rename(src, dst):  # moving the files into an existing directory fails late
        renames.append(dst)
        if len(renames) == 3:
            raise OSError(28, "No space left on device")
        original_rename(src, dst)

    monkeypatch.setattr(scaffold.os, "rename", flaky_rename)
    result = invoke("new", "empty")
    assert result.exit_code == 1 and "No space left on device" in result.output
    assert len(renames) == 3
    assert files_in(tmp_path) == ["empty"]  # no staging directory, no file left behind


@pytest.mark.slow
def test_new_bank_builds_as_it_is(tmp_path, monkeypatch):
    import json

    monkeypatch.chdir(tmp_path)
    assert invoke("new", "my-bank").exit_code == 0
    result = invoke("check", "my-bank")
    assert result.exit_code == 0, result.output
    assert "5 questions, 6 parts, 0 unanswered; 0 error(s), 0 warning(s)" in result.output
    result = invoke("build", "my-bank", "--format", "apkg,json")
    assert result.exit_code == 0, result.output
    assert "6 cards (6 answered)" in result.output and "1 question(s) computed" in result.output
    assert "0 error(s), 0 warning(s)" in result.output
    data = json.loads((tmp_path / "my-bank" / "build" / "my-bank.json").read_text())
    assert data["deck"] == "My bank"
    assert sorted(c["kind"] for c in data["cards"]) == ["choice", "cloze", "open", "open",
                                                         "open", "truefalse"]
    computed = next(c for c in data["cards"] if c["ref"] == "Q5.1")
    assert "precision = 6 / (6 + 1) = 0.857" in computed["back"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my-bank"]


def test_style_set_in_deckgen_toml_is_used_and_shown(tmp_path):
    bank = tmp_path / "b"
    bank.mkdir()
    # both a heading question and a Q:/A: pair; detection would pick the heading
    (bank / "q.md").write_text("## Why is the sky blue?\n\nQ: What scatters light?\n"
                               "A: Air molecules.\n\n## What is red?\n\nA colour.\n")
    assert "heading style (detected)" in run("list", str(bank), cwd=tmp_path).output
    (bank / "deckgen.toml").write_text('style = "labelled"\n')
    result = run("list", str(bank), cwd=tmp_path)
    assert "labelled style (set in deckgen.toml), 1 questions, 1 cards" in result.output
