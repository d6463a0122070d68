import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    with open(bank / "q.md", "wb") as f:
        f.write(b"## Big\n\n1. How big is this file?\n\n")
        f.truncate(600 * 1024 * 1024)
    with open(bank / "q.answers.md", "wb") as f:
        f.write(b"## 1\nHuge.\n")
        f.truncate(3 * 1024 ** 3)
