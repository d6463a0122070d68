"""`deckgen check` sees what `deckgen build` sees: over every bad input and every parser
fixture, the diagnostics of a build (without running cells) equal those of check."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import write_bank
from deckgen import config
from deckgen.errors import BuildFailed
from deckgen.pipeline import build, gather

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
