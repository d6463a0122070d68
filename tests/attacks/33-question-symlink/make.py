import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    c = canary(outside)
    (outside / "notes.md").write_text(f"## Private\n\n1. What is {c}?\n")
    os.symlink(outside / "notes.md", bank / "linked.md")
