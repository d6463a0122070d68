import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    (bank / "img").mkdir()
    os.mkfifo(bank / "img" / "pipe.png")
    (bank / "answers").mkdir()
    os.mkfifo(bank / "answers" / "q.md")
