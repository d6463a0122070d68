"""Rebuilds: nothing changed means nothing done; heavy libraries stay out of the main process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT, build, write_bank
from deckgen.cli import main

pytestmark = pytest.mark.slow

HEAVY = "torch matplotlib sympy numpy".split()
PROBE = """
import sys
from pathlib import Path
from deckgen import config
from deckgen.pipeline import build
result = build(config.override(config.load(Path(sys.argv[1])), out=Path(sys.argv[2])))
heavy = sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})
print(result.skipped, result.executed, heavy)
"""


def probe(bank: Path, out: Path) -> str:
    code = PROBE.replace("{heavy!r}", repr(set(HEAVY)))
    done = subprocess.run([sys.executable, "-c", code, str(bank), str(out)], text=True,
                          capture_output=True, check=True, cwd=ROOT)
    return done.stdout.strip()


@pytest.fixture(scope="module")
def seed_copy(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("incr")
    shutil.copytree(ROOT / "source", root / "source")
    out = root / "out"
    build(root / "source", out)
    return root / "source", out


def test_noop_rebuild_skips_everything_and_imports_no_heavy_library(seed_copy):
    bank, out = seed_copy
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()}
    assert probe(bank, out) == "True 0 []"
    after = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()}
    assert after == before  # no output rewritten


def test_prose_edit_rebuild_runs_no_cell_and_imports_no_heavy_library(seed_copy):
    bank, out = seed_copy
    q = bank / "deep-learning-interview-questions.md"
    q.write_text(q.read_text().replace("Name them.", "Name both."))
    assert probe(bank, out) == "False 0 []"
    data = json.loads((out / "deep-learning-interviews.json").read_text())
    assert "Name both." in data["cards"][0]["front"]


def test_diff_previews_an_edit(tmp_path: Path):
    bank = write_bank(tmp_path / "b", "1. What?\n\n---\n\n2. Why?\n", "## 1\nA.\n\n## 2\nB.\n")
    build(bank, tmp_path / "out")
    (bank / "q.md").write_text("1. What exactly?\n\n---\n\n3. New?\n")
    (bank / "answers" / "a.md").write_text("## 1\nA.\n")
    result = CliRunner().invoke(main, ["diff", str(bank), "--out", str(tmp_path / "out"),
                                       "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    preview = json.loads(result.output)
    assert preview["counts"] == {"new": 1, "updated": 1, "unchanged": 0, "orphaned": 1}
    changes = {c["ref"]: c for c in preview["changes"]}
    assert changes["Q1"]["what"] == "updated" and "Front" in changes["Q1"]["fields"]
    assert changes["Q3"]["what"] == "new" and changes["Q2"]["what"] == "orphaned"
    assert not (tmp_path / "out" / "t.apkg").read_bytes() == b""  # diff writes nothing


def test_watch_rebuilds_on_save(tmp_path: Path):
    bank = write_bank(tmp_path / "b", "1. What?\n", "## 1\nA.\n")
    proc = subprocess.Popen([sys.executable, "-m", "deckgen", "watch", "--trust", str(bank), "-o",
                             str(tmp_path / "out")], stdout=subprocess.PIPE, text=True,
                            cwd=tmp_path)
    try:
        lines = [proc.stdout.readline(), proc.stdout.readline()]  # banner, first build
        assert "watching" in lines[0] and "1 cards" in lines[1]
        time.sleep(0.5)
        (bank / "answers" / "a.md").write_text("## 1\nAn edited answer.\n")
        line = proc.stdout.readline()
        assert "1 cards" in line and "wrote apkg, json" in line
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_watch_prints_what_build_prints(tmp_path: Path):
    bank = write_bank(tmp_path / "b", "1. What?\n\n---\n\n2. Why?\n\n---\n\n3. How?\n",
                      "## 1\nA.\n\n## 2\nB.\n")
    proc = subprocess.Popen([sys.executable, "-m", "deckgen", "watch", "--trust", str(bank), "-o",
                             str(tmp_path / "out"), "-f", "json"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=tmp_path)

    def until(text: str) -> list[str]:
        seen = []
        while True:
            line = proc.stdout.readline()
            assert line, "watch ended early:\n" + "".join(seen)
            seen.append(line)
            if text in line:
                return seen

    try:
        first = until("3 cards")
        assert any("3 has no answer [deckgen.missing-answer]" in line for line in first)
        time.sleep(0.5)
        (bank / "q.md").write_text("1. What?\n\n---\n\n3. How?\n")
        (bank / "answers" / "a.md").write_text("## 1\nA.\n")
        second = until("2 cards")
        assert any("1 note(s) are no longer in the source: Q2" in line for line in second)
        assert any('"Source:*dg-' in line for line in second)  # the search for Anki
    finally:
        proc.terminate()
        proc.wait(timeout=10)
