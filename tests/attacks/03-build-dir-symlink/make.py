import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    (outside / "victim-build").mkdir()
    (outside / "victim-build" / "keep.txt").write_text("must stay\n")
    os.symlink(outside / "victim-build", bank / "build")
    os.symlink(outside / "victim-build", bank / "cache")
