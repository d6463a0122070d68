import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    q = ("## Sep\n\n1. What is a\x1f<script>alert(1)</script>\x1fb\x1e and c\x1dd\x1ce?\n\n---\n\n"
         "2. What is `x\x1fy` and &#31;<b>z</b>&#x1f; and &#0; here?\n\n---\n\n"
         "3. Gradient descent moves [...] the gradient\x1f.\n")
    (bank / "q.md").write_text(q)
    (bank / "q.answers.md").write_text("## 1\nA\x1fB\x1f\x1fC\n\n## 3\n1. against\x1fx\n")
