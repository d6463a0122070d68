import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    n = 30
    forms = ["\\frac{" * n + "x" + "}{y}" * n, "\\sqrt{" * n + "x" + "}" * n,
             "1+\\cfrac{1}{" * n + "x" + "}" * n]
    (bank / "q.md").write_text("## Nested\n\n" + "\n---\n\n".join(
        f"{i}. What is ${f}$?\n" for i, f in enumerate(forms, 1)))
