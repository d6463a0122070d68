import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    (bank / "q.md").write_bytes(b"## Bytes\n\n1. What is \xff here?\n\n---\n\n2. What is \xc0\xaf and "
                                b"\xed\xa0\x80?\n\n---\n\n3. Caf\xe9 au lait?\n\n---\n\n4. End \xe2\x82")
    (bank / "q.answers.md").write_bytes(b"## 1\nAnswer \xfe\xff.\n\n## 2\n\x80\x80\n")
