import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    notes = [
        {"guid": "<script>alert(1)</script>", "key": "1", "file": "q.md", "text": "What is a lock file?"},
        {"guid": "a\x1fb<img src=x onerror=alert(2)>", "key": "2", "file": "q.md", "text": "What is a GUID?"},
        {"guid": "x" * 100_000, "key": "3", "file": "q.md", "text": "What is a merge?"},
        {"guid": "../../outside/pwned", "key": "../../4", "file": "../outside/secret.txt",
         "text": "What is stolen?"},
    ]
    (bank / "deckgen.lock").write_text(json.dumps({"version": 1, "notes": notes}, indent=1))
