import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    n = 100_000
    (bank / "deckgen.toml").write_text('name = "Deep"\nsources = ["q.md"]\n'
                                       + "x = " + "[" * n + "]" * n + "\n"
                                       + "y = " + "{a=" * 50_000 + "1" + "}" * 50_000 + "\n")
