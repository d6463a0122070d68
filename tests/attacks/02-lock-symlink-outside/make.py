import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    c = canary(outside)
    lock = {"version": 1, "notes": [
        {"answer": "adacc2f82643b70b", "answer_key": "1", "answered_question": "fe42802076818df4",
         "file": "q.md", "guid": "Zz1!aaaaaa", "key": "1", "question": "fe42802076818df4",
         "text": "Is the lock followed out of the bank? " + c}]}
    (outside / "deckgen.lock").write_text(json.dumps(lock, indent=1))
    os.symlink(outside / "deckgen.lock", bank / "deckgen.lock")
