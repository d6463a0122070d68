import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    c = canary(outside)
    P = typst_split(c)
    S = f'" + "{c[:4]}" + "{c[4:]}" + "'
    for i, name in enumerate([f"a{S}b", f"x\\{S}y", f"{P} [x] @z <w> $y$"], 1):
        (bank / f"{name}.md").write_text(f"## Sec\n\n1. What is file {i} called?\n")
