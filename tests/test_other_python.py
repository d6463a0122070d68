"""Cells in another Python environment (``python`` in deckgen.toml), as a notebook picks its
kernel: the worker runs there by its file (it needs nothing of deckgen installed), the
results are cached under that environment's versions, and a missing package says where."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import build, cards_json, write_bank
from deckgen import config
from deckgen.errors import BuildFailed, ConfigError

pytestmark = pytest.mark.slow

QUESTIONS = "## S\n\n1. Where do the cells run?\n\n---\n\n2. Is numpy there?\n"
ANSWERS = ("## 1\n```{python}\nimport sys\nprint(sys.prefix)\n```\n\n"
           "## 2\n```{python}\nimport numpy\n```\n")


@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory) -> Path:
    """A new environment with nothing installed (no deckgen, no numpy)."""
    venv = tmp_path_factory.mktemp("env") / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return venv


def test_cells_run_in_the_python_deckgen_toml_names(tmp_path: Path, bare_venv: Path):
    bank = write_bank(tmp_path / "b", QUESTIONS, ANSWERS.split("\n\n## 2")[0] + "\n")
    with (bank / "deckgen.toml").open("a") as f:
        f.write(f'python = "{bare_venv / "bin" / "python"}"\nformats = ["json"]\n')
    assert config.load(bank).python == str(bare_venv / "bin" / "python")
    result = build(bank, tmp_path / "out")
    assert result.executed == 1
    [q1] = [c for c in cards_json(tmp_path / "out")["cards"] if c["ref"] == "Q1"]
    assert str(bare_venv) in q1["back"]  # it ran there, not in deckgen's environment
    assert sys.prefix not in q1["back"]


def test_a_package_missing_there_says_which_python(tmp_path: Path, bare_venv: Path):
    bank = write_bank(tmp_path / "b", QUESTIONS, ANSWERS)
    with (bank / "deckgen.toml").open("a") as f:
        f.write(f'python = "{bare_venv / "bin" / "python"}"\nformats = ["json"]\n')
    with pytest.raises(BuildFailed) as failed:
        build(bank, tmp_path / "out")
    [error] = [d for d in failed.value.diagnostics if d.code == "cell-error"]
    assert "No module named 'numpy'" in error.message
    assert f"cells run with {bare_venv / 'bin' / 'python'}" in error.message


def test_a_python_that_is_not_there_is_a_config_error(tmp_path: Path):
    bank = write_bank(tmp_path / "b", QUESTIONS, ANSWERS)
    with (bank / "deckgen.toml").open("a") as f:
        f.write('python = "~/no/such/venv/bin/python"\n')
    with pytest.raises(ConfigError) as info:
        config.load(bank)
    assert "is not a Python interpreter here" in str(info.value)
    assert info.value.diagnostic.loc is not None and info.value.diagnostic.loc.line > 1


def test_an_untrusted_bank_does_not_run_its_python(tmp_path: Path, bare_venv: Path):
    bank = write_bank(tmp_path / "b", QUESTIONS, ANSWERS)
    with (bank / "deckgen.toml").open("a") as f:
        f.write(f'python = "{bare_venv / "bin" / "python"}"\n')
    cfg, notes = config.untrusted(config.load(bank), False)
    assert cfg.python is None and any("python in deckgen.toml" in n for n in notes)
