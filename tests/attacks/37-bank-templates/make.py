import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401

import importlib.resources  # noqa: E402
import shutil  # noqa: E402


def make(bank: Path, outside: Path) -> None:
    c = canary(outside)
    src = Path(str(importlib.resources.files("deckgen.renderers")))
    tpl = bank / "tpl"
    for sub in ("anki", "print"):
        shutil.copytree(src / sub, tpl / sub, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(src / sub, tpl, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    for f in tpl.rglob("*.html"):
        f.write_text('<script>alert(1)</script><div onload="alert(2)"></div>' + f.read_text())
    for f in tpl.rglob("*.css"):
        f.write_text("@import url(https://evil.example/x.css);\n" + f.read_text())
    for f in tpl.rglob("card.typ"):
        f.write_text(f.read_text() + f"\n{typst_split(c)}\n#let _x = read(\"{outside}/secret.txt\")\n")
    (bank / "deckgen.toml").write_text('name = "Templates"\nsources = ["q.md"]\ntemplates = "tpl"\n')
