import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    c = canary(outside)
    (outside / "answers.md").write_text(f"## 1\nThe secret is {c}.\n")
    (outside / "more").mkdir()
    (outside / "more" / "a.md").write_text(f"## 2\nAlso {c}.\n")
    (bank / "answers").mkdir()
    os.symlink(outside / "answers.md", bank / "answers" / "q.md")
    os.symlink(outside / "more", bank / "answers" / "extra")
