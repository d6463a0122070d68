import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    n = 50_000
    qs = [
        "1. What is the deepest quote?\n\n" + ">" * 100_000 + " deep?\n",
        "2. What is the deepest list?\n\n" + "".join("  " * i + "- x?\n" for i in range(1500)),
        "3. What is " + "*" * n + "a" + "*" * n + " and " + "_" * n + "b" + "_" * n + "?\n",
        "4. What is " + "[" * n + "a" + "](x)" * n + "?\n",
        "5. What is " + "![" * 30_000 + "a" + "](x.png)" * 30_000 + "?\n",
        "6. What is " + "**a " * n + "?\n",
        "7. What is " + "> 1. " * 20_000 + "deep?\n",
    ]
    (bank / "q.md").write_text("## Deep\n\n" + "\n---\n\n".join(qs))
