"""Shared fixtures: the tiny test bank, the default bank, and a helper to run the CLI."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

# the per-user key that signs cache entries (deckgen/trustcache.py): the tests keep theirs in
# a temporary folder, never in the user's ~/.config (subprocesses inherit it)
os.environ.setdefault("DECKGEN_CACHE_KEY_FILE",
                      str(Path(tempfile.mkdtemp(prefix="deckgen-test-key-")) / "cache-key"))

# and the list of trusted banks (deckgen/trust.py): a temporary file, empty at the start
os.environ.setdefault("DECKGEN_TRUST_FILE",
                      str(Path(tempfile.mkdtemp(prefix="deckgen-test-trust-")) / "trusted.json"))

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "data" / "seed-original.md"
"""The default bank's question file as it was converted, before the edition in source/ (see
docs/BANK-EDITION.md): the parser keeps being tested on the damaged original."""
TINY = Path(__file__).resolve().parent / "banks" / "tiny"


@pytest.fixture(autouse=True)
def _trust_test_banks(request, monkeypatch):
    """The CLI tests build banks the tests wrote, so they are trusted, as a user's own bank
    is once trusted; tests marked ``real_trust`` see the real list (tests/test_trust.py)."""
    if request.node.get_closest_marker("real_trust") is None:
        from deckgen import trust
        monkeypatch.setattr(trust, "trusted", lambda root: True)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A writable copy of tests/banks/tiny."""
    dest = tmp_path / "tiny"
    shutil.copytree(TINY, dest)
    return dest


def write_bank(root: Path, questions: str, answers: str = "", name: str = "T") -> Path:
    """Make a bank directory from strings; returns its path."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "deckgen.toml").write_text(
        f'name = "{name}"\nsources = ["q.md"]\nanswers = ["answers/*.md"]\n')
    (root / "q.md").write_text(questions)
    (root / "answers").mkdir(exist_ok=True)
    if answers:
        (root / "answers" / "a.md").write_text(answers)
    return root


def build(bank: Path, out: Path, **kwargs):
    """Run the library's build on a bank directory."""
    from deckgen import config
    from deckgen.pipeline import build as run_build

    cfg = config.override(config.load(bank), out=out)
    result = run_build(cfg, **kwargs)
    if "json" in result.written:  # every card list a test builds keeps to its schema
        validate_cards_json(json.loads(result.written["json"].read_text(encoding="utf-8")))
    return result


SCHEMA = ROOT / "renderers" / "json" / "cards.schema.json"


def validate_cards_json(document: object) -> None:
    """Raise jsonschema.ValidationError unless ``document`` keeps to docs/JSON.md's schema."""
    import jsonschema

    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(document)


def cards_json(out: Path) -> dict:
    return json.loads(next(p for p in out.glob("*.json") if not p.name.startswith("."))
                      .read_text())


@pytest.fixture(scope="session")
def seed_build(tmp_path_factory) -> Path:
    """The default bank built once per test session (runs all its cells)."""
    root = tmp_path_factory.mktemp("seed")
    shutil.copytree(ROOT / "source", root / "source")  # the build writes the bank's lock file
    out = root / "out"
    build(root / "source", out)
    return out
