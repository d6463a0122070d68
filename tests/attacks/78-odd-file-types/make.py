import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    (bank / "z.md").mkdir()
    (bank / "z.md" / "inner.md").write_text("1. Inner?\n")
    os.symlink("nowhere.md", bank / "gone.md")
    (bank / "answers" / "q.md").mkdir(parents=True)
    (bank / "img" / "dir.png").mkdir(parents=True)
    os.symlink("nowhere.png", bank / "img" / "gone.png")
    (bank / "deckgen.lock").write_text("")
