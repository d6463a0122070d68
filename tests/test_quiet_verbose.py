"""-q and -v on every command: -q leaves out what is not an error (but not the data a
command is run for: the list, the changes), -v adds on stderr the files read and how long
each phase took (or, for a command that reads no bank, the paths it used)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import write_bank
from deckgen.cli import main

QUESTIONS = ["What is a perceptron?", "What does ReLU compute?", "Why normalise inputs?"]
ANSWERS = ["A linear threshold unit.", "max(0, x).", "So that gradients are well scaled."]


def questions_md(questions: list[str]) -> str:
    return "## Basics\n\n" + "\n\n---\n\n".join(
        f"{n}. {q}" for n, q in enumerate(questions, start=1)) + "\n"


def answers_md(answers: list[str], start: int = 1) -> str:
    return "".join(f"## {n}\n{a}\n\n" for n, a in enumerate(answers, start=start))


def bank(tmp_path: Path, name: str = "b") -> Path:
    """A bank of three answered questions, built once (so it has a lock and a package)."""
    root = write_bank(tmp_path / name, questions_md(QUESTIONS), answers_md(ANSWERS))
    built = invoke("build", str(root), "-f", "apkg", "-q")
    assert built.exit_code == 0 and built.output == "", built.output
    return root


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def phases(text: str) -> list[str]:
    """The phase names of -v's timing lines ("  phase: 0.01 s")."""
    return [line.strip().rsplit(":", 1)[0] for line in text.splitlines()
            if line.startswith("  ") and line.endswith(" s")]


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_lists_quiet_and_verbose_in_its_help(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0, result.output
    assert "-q, --quiet" in result.output and "-v, --verbose" in result.output


def test_check_verbose_adds_the_files_read_and_the_phases(tmp_path):
    root = bank(tmp_path)
    plain = invoke("check", str(root))
    verbose = invoke("check", str(root), "-v")
    assert plain.exit_code == verbose.exit_code == 0, verbose.output
    assert verbose.stdout == plain.stdout  # the summary line, unchanged
    assert "question files:" not in plain.output
    assert f"question files: {root / 'q.md'}" in verbose.stderr
    assert f"answers files: {root / 'answers' / 'a.md'}" in verbose.stderr
    assert phases(verbose.stderr)[:2] == ["read and check the bank", "the last build's cells"]


def test_list_quiet_still_lists_and_verbose_adds_on_stderr(tmp_path):
    root = bank(tmp_path)
    plain = invoke("list", str(root))
    assert plain.exit_code == 0 and "What does ReLU compute?" in plain.stdout
    quiet = invoke("list", str(root), "-q")
    assert quiet.exit_code == 0 and quiet.output == plain.output
    verbose = invoke("list", str(root), "-v")
    assert verbose.stdout == plain.stdout
    assert f"settings: {root / 'deckgen.toml'}" in verbose.stderr
    assert phases(verbose.stderr) == ["read and check the bank"]


def test_diff_quiet_keeps_the_changes_and_drops_the_counts(tmp_path):
    root = bank(tmp_path)
    (root / "q.md").write_text(questions_md(["What is a tensor?", *QUESTIONS]))
    plain = invoke("diff", str(root))
    assert plain.exit_code == 0, plain.output
    assert "0 new" not in plain.output and "1 new, 0 updated, 3 unchanged" in plain.output
    quiet = invoke("diff", str(root), "-q")
    assert quiet.exit_code == 0, quiet.output
    assert quiet.output.split() == ["new", "Q1"]  # the one change, nothing else


def test_diff_verbose_times_its_phases_on_stderr_and_its_json_stays_json(tmp_path):
    root = bank(tmp_path)
    verbose = invoke("diff", str(root), "-v", "--json")
    assert verbose.exit_code == 0, verbose.output
    assert json.loads(verbose.stdout)["counts"]["unchanged"] == 3
    assert f"last build: {root / 'build' / 't.apkg'}" in verbose.stderr
    assert phases(verbose.stderr) == ["read and check the bank", "cells and cards",
                                      "compare with the last build"]
    assert not phases(invoke("diff", str(root)).output)


def test_diff_quiet_prints_the_errors_of_a_bank_that_fails_but_not_its_warnings(tmp_path):
    root = write_bank(tmp_path / "b", "1. What?\n\n---\n\n2. Why?\n", "## 1\nThis.\n\n## 9\nNo.\n")
    plain = invoke("diff", str(root))
    quiet = invoke("diff", str(root), "-q")
    assert plain.exit_code == quiet.exit_code == 1
    for result in (plain, quiet):
        assert "answer 9 matches no question" in result.output
    assert "2 has no answer" in plain.output and "2 has no answer" not in quiet.output


@pytest.mark.real_trust
def test_quiet_leaves_out_the_notes_on_an_untrusted_bank(tmp_path, monkeypatch):
    from deckgen import trust

    monkeypatch.setenv(trust.FILE_ENV, str(tmp_path / "trusted.json"))
    root = write_bank(tmp_path / "b", "1. What?\n", "## 1\n```{python}\nprint(1)\n```\n")
    note = "is not a trusted bank, so none of its code ran"
    for command in (["build", "-f", "json"], ["diff"]):
        loud = invoke(*command, str(root))
        assert note in loud.output, (command, loud.output)
        quiet = invoke(*command, str(root), "-q")
        assert note not in quiet.output, (command, quiet.output)


def test_renumber_quiet_and_verbose(tmp_path):
    root = bank(tmp_path)
    (root / "q.md").write_text(questions_md(["What is a tensor?", *QUESTIONS]))
    answers = (root / "answers" / "a.md").read_text()
    plain = invoke("renumber", str(root))
    assert plain.exit_code == 0, plain.output
    assert "## 1 -> ## 2" in plain.output and "3 heading(s) would change" in plain.output
    quiet = invoke("renumber", str(root), "-q")
    assert quiet.output == plain.output.replace(
        "3 heading(s) would change; run with --write to rewrite them\n", "")
    assert "## 1 -> ## 2" in quiet.output  # the preview is what renumber is run for
    verbose = invoke("renumber", str(root), "-v")
    assert verbose.stdout == plain.stdout and phases(verbose.stderr) == [
        "read and check the bank"]
    assert (root / "answers" / "a.md").read_text() == answers  # previews write nothing
    written = invoke("renumber", str(root), "--write", "-q", "-v")
    assert written.exit_code == 0, written.output
    assert written.stdout == ""
    assert phases(written.stderr) == ["read and check the bank", "rewrite the headings"]
    assert (root / "answers" / "a.md").read_text() == answers_md(ANSWERS, start=2)
    assert invoke("renumber", str(root), "-q").output == ""
    assert "already has its question's number" in invoke("renumber", str(root)).output


def test_accept_quiet_and_verbose(tmp_path):
    root = bank(tmp_path)
    (root / "q.md").write_text(questions_md(
        [QUESTIONS[0], "What does the ReLU activation compute?", QUESTIONS[2]]))
    assert "stale-answer" in invoke("check", str(root)).output
    missing = invoke("accept", "9", "--bank", str(root), "-q")  # nothing accepted: an error
    assert missing.exit_code == 1 and "no stale answer for: 9" in missing.output
    quiet = invoke("accept", "2", "9", "--bank", str(root), "-q", "-v")
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stdout == "" and "no stale answer" not in quiet.stderr
    assert f"lock file: {root / 'deckgen.lock'}" in quiet.stderr
    assert phases(quiet.stderr) == ["read and check the bank", "write the lock file"]
    assert "stale-answer" not in invoke("check", str(root)).output  # and it was accepted
    assert invoke("accept", "--all", "--bank", str(root)).output == "no answer is stale\n"
    assert invoke("accept", "--all", "--bank", str(root), "-q").output == ""


def test_trust_quiet_and_verbose(tmp_path, monkeypatch):
    from deckgen import trust

    store = tmp_path / "trusted.json"
    monkeypatch.setenv(trust.FILE_ENV, str(store))
    root = write_bank(tmp_path / "b", "1. What?\n")
    plain = invoke("trust", str(root))
    assert plain.exit_code == 0 and "trusted" in plain.output
    quiet = invoke("trust", str(root), "--remove", "-q")
    assert quiet.exit_code == 0 and quiet.output == ""
    assert trust.listed() == []  # it did what it was told
    verbose = invoke("trust", str(root), "-v")
    assert f"list of trusted banks: {store}" in verbose.stderr
    assert "list of trusted banks" not in plain.output
    listed = invoke("trust", "--list", "-q")  # the list is what --list is for
    assert listed.output == f"{root.resolve()}\n"


def test_new_quiet_and_verbose(tmp_path, monkeypatch):
    from deckgen import trust

    store = tmp_path / "trusted.json"
    monkeypatch.setenv(trust.FILE_ENV, str(store))
    monkeypatch.chdir(tmp_path)
    plain = invoke("new", "one")
    assert plain.exit_code == 0 and "written" in plain.output and "next: " in plain.output
    quiet = invoke("new", "two", "-q")
    assert quiet.exit_code == 0 and quiet.output == ""
    assert (tmp_path / "two" / "deckgen.toml").is_file()
    verbose = invoke("new", "three", "-v")
    assert verbose.stdout.replace("three", "one") == plain.stdout
    assert verbose.stderr == f"trusted {tmp_path.resolve() / 'three'} (listed in {store})\n"


def test_calibrate_quiet_and_verbose(tmp_path):
    root = write_bank(tmp_path / "b", "1. What?\n")
    plain = invoke("calibrate", str(root), "--paper", "letter")
    assert plain.exit_code == 0 and "calibration.pdf written" in plain.output
    quiet = invoke("calibrate", str(root), "-q")
    assert quiet.exit_code == 0 and quiet.output == ""
    verbose = invoke("calibrate", str(root), "-v", "--paper", "letter", "--back-offset", "1,-2")
    assert verbose.stdout == plain.stdout
    assert "layout long-edge, paper letter, card eight, back offset 1,-2 mm" in verbose.stderr
    assert phases(verbose.stderr) == ["typeset the sheet"]
