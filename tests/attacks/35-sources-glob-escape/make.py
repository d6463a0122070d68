import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    c = canary(outside)
    (outside / "other.md").write_text(f"## Private\n\n1. What is {c}?\n")
    (outside / "ans").mkdir()
    (outside / "ans" / "q.md").write_text(f"## 1\nIt is {c}.\n")
    (outside / "sub").mkdir()
    (outside / "sub" / "deep.md").write_text(f"## Deep\n\n1. Deep {c}?\n")
    os.symlink(outside / "sub", bank / "sub")
    (bank / "deckgen.toml").write_text(
        'name = "Globs"\n'
        f'sources = ["q.md", "../outside/*.md", "{outside}/other.md", "**/*.md", "/proc/self/cmdline"]\n'
        f'answers = ["../outside/ans/*.md", "{outside}/ans/q.md"]\n'
        '[style]\n"../outside/*.md" = "numbered"\n"/**" = "bold"\n')
