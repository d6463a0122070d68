import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    n = 5000
    forms = [
        "\\frac{" * n + "x" + "}{y}" * n,
        "{" * 20_000 + "x" + "}" * 20_000,
        "\\sqrt{" * n + "x" + "}" * n,
        "\\left(" * 3000 + "x" + "\\right)" * 3000,
        "x^{" * n + "2" + "}" * n,
        "\\begin{matrix}" * 2000 + "x" + "\\end{matrix}" * 2000,
        "\\text{" * n + "x" + "}" * n,
        "(" * 30_000 + "x" + ")" * 30_000,
    ]
    qs = [f"{i}. What is ${f}$?\n" for i, f in enumerate(forms, 1)]
    qs.append(f"{len(forms) + 1}. And display?\n\n$$\n" + "\\frac{" * n + "1" + "}{2}" * n + "\n$$\n")
    (bank / "q.md").write_text("## Math\n\n" + "\n---\n\n".join(qs))
