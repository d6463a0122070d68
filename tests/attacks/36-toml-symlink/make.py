import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    c = canary(outside)
    (outside / "deckgen.toml").write_text(f'name = "{c}"\ndescription = "{c}"\nsources = ["q.md"]\n')
    os.symlink(outside / "deckgen.toml", bank / "deckgen.toml")
