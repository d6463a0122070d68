import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    (bank / "answers").mkdir()
    (bank / "answers" / "q.md").write_text("## 1\nHere.\n")
    os.symlink(".", bank / "answers" / "a")
    os.symlink(".", bank / "answers" / "b")
    os.symlink("..", bank / "answers" / "up")
