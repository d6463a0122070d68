import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    names = ["<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>',
             "{{c1::x}} [sound:x.mp3] {{Front}}", "<script>alert(1)<\\script>"]
    for i, name in enumerate(names, 1):
        (bank / f"{name}.md").write_text(f"## Sec\n\n1. What is file {i} called?\n")
