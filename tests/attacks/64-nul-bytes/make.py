import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    (bank / "deckgen.toml").write_bytes(b'name = "Nul"\nsources = ["q.md"]\n# comment \x00 here\n')
    (bank / "q.md").write_bytes(b"## Sec\x00tion\n\n1. What is a\x00b? <scr\x00ipt>alert(1)</script> "
                                b"<img src=x on\x00error=alert(2)>\n\n---\n\n2. What is $x\x00y$?\n\n"
                                b"```\ncode\x00\n```\n\n---\n\n3. What is <a href=\"java\x00script:alert(3)\">l</a>?\n")
    (bank / "q.answers.md").write_bytes(b"## 1\nA\x00B\n\n## 2\n\x00\n")
