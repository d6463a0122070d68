import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    word = "abcdefghij" * 30_000
    answer = ("lorem ipsum dolor sit amet " * 20_000).strip()
    (bank / "q.md").write_text(f"## Long\n\n1. What is {word}?\n")
    (bank / "q.answers.md").write_text(f"## 1\n{answer}\n")
