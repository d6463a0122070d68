"""A bank is untrusted until its user says otherwise (deckgen/trust.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from deckgen import cli, trust
from deckgen.cli import main

pytestmark = [pytest.mark.real_trust]


@pytest.fixture(autouse=True)
def trust_file(tmp_path: Path, monkeypatch) -> Path:
    """An empty list of trusted banks of this test's own."""
    path = tmp_path / "config" / "trusted-banks.json"
    monkeypatch.setenv(trust.FILE_ENV, str(path))
    return path


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def cards(out: Path) -> str:
    return (out / "tiny.json").read_text()


def test_a_bank_is_untrusted_until_the_user_says_so(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("build", str(tiny), "-o", str(out), "-f", "json")
    assert result.exit_code == 0, result.output
    assert "is not a trusted bank, so none of its code ran (4 Python cell(s))" in result.output
    assert "deckgen trust" in result.output
    assert "The sum is 4" not in cards(out)  # the cell did not run
    assert trust.listed() == []

    assert invoke("trust", str(tiny)).exit_code == 0
    assert trust.listed() == [str(tiny.resolve())]
    result = invoke("build", str(tiny), "-o", str(out), "-f", "json")
    assert result.exit_code == 0 and "not a trusted bank" not in result.output
    assert "The sum is 4" in cards(out)

    assert "no longer trusted" in invoke("trust", "--remove", str(tiny)).output
    assert trust.listed() == []


def test_trust_for_one_command_is_not_remembered(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("build", "--trust", str(tiny), "-o", str(out), "-f", "json")
    assert result.exit_code == 0 and "The sum is 4" in cards(out)
    assert trust.listed() == []
    result = invoke("build", "--trust", "--no-exec", str(tiny), "-o", str(out))
    assert result.exit_code == 2 and "contradict" in result.output


def test_no_exec_wins_over_a_remembered_trust(tiny: Path, tmp_path: Path) -> None:
    trust.remember(tiny)
    out = tmp_path / "out"
    result = invoke("build", "--no-exec", str(tiny), "-o", str(out), "-f", "json")
    assert result.exit_code == 0 and "The sum is 4" not in cards(out)


@pytest.mark.parametrize("answer, runs", [("y\n", True), ("n\n", False), ("\n", False)])
def test_a_build_in_a_terminal_asks_once(tiny: Path, tmp_path: Path, monkeypatch, answer: str,
                                         runs: bool) -> None:
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    out = tmp_path / "out"
    result = invoke("build", str(tiny), "-o", str(out), "-f", "json", input=answer)
    assert result.exit_code == 0, result.output
    assert "Python cell(s) in" in result.output and "Trust this bank" in result.output
    assert ("The sum is 4" in cards(out)) is runs
    assert trust.trusted(tiny) is runs
    again = invoke("build", str(tiny), "-o", str(out), "-f", "json", input="")
    assert ("Trust this bank" in again.output) is not runs  # asked again only if refused


def test_a_bank_without_code_is_not_asked_about(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    bank = tmp_path / "plain"
    bank.mkdir()
    (bank / "q.md").write_text("1. What is a tensor?\n\n   An array.\n")
    result = invoke("build", str(bank), "-f", "json")
    assert result.exit_code == 0, result.output
    assert "Trust" not in result.output and "trusted" not in result.output


def test_an_untrusted_bank_may_not_place_outputs_outside_it(tiny: Path) -> None:
    (tiny / "deckgen.toml").write_text((tiny / "deckgen.toml").read_text()
                                       + 'out = "../elsewhere"\n')
    result = invoke("build", str(tiny), "-f", "json")
    assert result.exit_code == 1
    assert "may not send outputs outside the bank folder" in result.output
    assert "deckgen trust" in result.output  # how to say it is yours
    assert not (tiny.parent / "elsewhere").exists()
    assert invoke("build", "--trust", str(tiny), "-f", "json").exit_code == 0
    assert (tiny.parent / "elsewhere" / "tiny.json").is_file()


def test_an_untrusted_bank_keeps_its_templates_to_itself(tiny: Path, tmp_path: Path) -> None:
    tpl = tiny / "tpl" / "anki"
    tpl.mkdir(parents=True)
    (tpl / "front.html").write_text("<script>steal()</script>{{Front}}")
    (tiny / "deckgen.toml").write_text((tiny / "deckgen.toml").read_text()
                                       + 'templates = "tpl"\n')
    out = tmp_path / "out"
    result = invoke("build", str(tiny), "-o", str(out), "-f", "apkg")
    assert result.exit_code == 0, result.output
    assert "not a trusted bank: the bank's own templates" in result.output
    import zipfile
    with zipfile.ZipFile(out / "tiny.apkg") as z:
        assert not any(b"steal()" in z.read(n) for n in z.namelist())


@pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"version": 1, "banks": "x"}',
                                     '{"version": 2, "banks": []}',
                                     '{"version": 1, "banks": ["relative/path", 3]}'])
def test_a_damaged_list_trusts_nothing_and_is_replaced(tiny: Path, trust_file: Path,
                                                       content: str) -> None:
    trust_file.parent.mkdir(parents=True)
    trust_file.write_text(content)
    assert trust.listed() == [] and not trust.trusted(tiny)
    assert trust.remember(tiny)
    assert json.loads(trust_file.read_text()) == {"version": 1, "banks": [str(tiny.resolve())]}


def test_a_new_bank_is_trusted_by_the_one_who_made_it(tmp_path: Path) -> None:
    result = invoke("new", str(tmp_path / "mine"))
    assert result.exit_code == 0, result.output
    assert trust.trusted(tmp_path / "mine")
    result = invoke("build", str(tmp_path / "mine"), "-f", "json")
    assert result.exit_code == 0 and "not a trusted bank" not in result.output


def test_trust_list(tiny: Path) -> None:
    invoke("trust", str(tiny))
    assert invoke("trust", "--list").output.split() == [str(tiny.resolve())]
    assert "already trusted" in invoke("trust", str(tiny)).output
