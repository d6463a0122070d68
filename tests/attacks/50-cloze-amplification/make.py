import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    (bank / "q.md").write_text("## Cloze\n\n1. Fill: " + "a [...] " * 5000 + "\n")
    (bank / "q.answers.md").write_text("## 1\n" + "".join(f"{i}. w\n" for i in range(1, 5001)))
