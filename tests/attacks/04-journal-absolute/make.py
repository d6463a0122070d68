import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    home = outside.parent / "home"
    home.mkdir(exist_ok=True)
    (home / ".bashrc").write_text("# the victim's shell profile\n")
    (outside / "victim.txt").write_text("the victim's file\n")
    (bank / ".payload.deckgen-aaaaaaaa.tmp").write_text("echo pwned\n")
    (bank / ".q.md.deckgen-bbbbbbbb.tmp").write_text("1. Replaced question?\n")
    journal = {"format": "deckgen-commit", "version": 1, "renames": [
        {"tmp": str(bank / ".payload.deckgen-aaaaaaaa.tmp"), "target": str(home / ".bashrc"),
         "old": None},
        {"tmp": str(outside / "secret.txt"), "target": str(bank / "stolen.md"), "old": None},
        {"tmp": str(bank / ".q.md.deckgen-bbbbbbbb.tmp"), "target": str(outside / "victim.txt"),
         "old": str(outside / "victim.txt")},
        {"tmp": str(bank / "missing.deckgen-cccccccc.tmp"), "target": str(bank / "q.md"),
         "old": str(outside / "secret.txt")},
    ]}
    (bank / ".deckgen-commit-0123456789abcdef.json").write_text(json.dumps(journal, indent=1))
