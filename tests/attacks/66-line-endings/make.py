import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    (bank / "cr.md").write_bytes(b"## CR\r\r1. Only CR?\r\r---\r\r2. Still CR?\r    1. Why?\r    2. How?\r")
    (bank / "cr.answers.md").write_bytes(b"## 1\rYes.\r\r## 2.1\rBecause.\r")
    (bank / "mixed.md").write_text("## Mixed\r\n\n1. What is \u2028 this \u2029 and \x85?\r\r---\n\n"
                                   "2. What is \x0b and \x0c and \x1c\x1d\x1e?\n\n---\n\n"
                                   "3. Parts?\n\n    1. First \u2028 2. Second?\n    2. Third\x0c?\n", newline="")
    (bank / "mixed.answers.md").write_text("## 1\u2028## 2\nText\x1e## 3.1\n\n## 3.2\nOk\u2029\n", newline="")
