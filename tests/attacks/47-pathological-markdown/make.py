import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    qs = [
        "1. What is " + " ".join("`" * i for i in range(1, 400)) + "?\n",
        "2. What is " + "[a](" * 30_000 + "?\n",
        "3. What is " + "*a _b " * 30_000 + "?\n",
        "4. What is <a" + " a=" * 50_000 + "?\n",
        "5. What is " + "\\" * 100_000 + "?\n",
        "6. What is " + "&#" * 50_000 + "?\n",
        "7. What is " + "<" * 200_000 + "?\n",
        "8. What is [x]?\n\n" + "".join(f"[r{i}]: https://e.example/{i}\n" for i in range(20_000)),
        "9. What is " + "[" * 20_000 + "]" * 20_000 + "?\n",
        "10. What is " + "<!--" * 30_000 + "?\n",
        "11. What is " + "~~a " * 30_000 + "?\n",
    ]
    (bank / "q.md").write_text("## Slow\n\n" + "\n---\n\n".join(qs))
