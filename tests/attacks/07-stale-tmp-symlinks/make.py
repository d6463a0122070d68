import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    (outside / "victim.txt").write_text("the victim's file\n")
    journal = {"format": "deckgen-commit", "version": 1, "renames": [
        {"tmp": str(outside / "victim.txt"), "target": str(outside / "moved.txt"), "old": None}]}
    (outside / "journal.json").write_text(json.dumps(journal))
    os.symlink(outside / "secret.txt", bank / ".deckgen.lock.deckgen-abcdefgh.tmp")
    os.symlink(outside / "victim.txt", bank / ".q.md.deckgen-ijklmnop.tmp")
    os.symlink(outside / "journal.json", bank / ".deckgen-commit-2222222222222222.json")
    os.symlink(outside / "victim.txt", bank / "..deckgen-commit-3333333333333333.json.deckgen-qqqqqqqq.tmp")
