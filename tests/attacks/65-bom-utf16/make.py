import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    (bank / "deckgen.toml").write_bytes(b"\xef\xbb\xbf" + b'name = "Bom"\nsources = ["*.md"]\n')
    (bank / "wide.md").write_bytes("## Wide\n\n1. Is this UTF-16?\n".encode("utf-16"))
    (bank / "wide.answers.md").write_bytes("## 1\nYes.\n".encode("utf-32"))
    (bank / "mid.md").write_bytes(b"\xef\xbb\xbf## Mid\n\n\xef\xbb\xbf1. A BOM before the item?\n\n---\n\n"
                                  b"2. And \xef\xbb\xbf inside?\n")
    (bank / "mid.answers.md").write_bytes(b"\xef\xbb\xbf\xef\xbb\xbf## 1\nTwo BOMs.\n\n\xef\xbb\xbf## 2\nOne.\n")
