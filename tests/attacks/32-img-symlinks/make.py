import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    c = canary(outside)
    (outside / "secret.png").write_bytes(png(3, 3, text=c))
    img = bank / "img"
    img.mkdir()
    os.symlink(outside / "secret.png", img / "abs.png")
    os.symlink("../../outside/secret.png", img / "rel.png")
    os.symlink(outside, bank / "linked")
    os.symlink("abs.png", img / "chain.png")
    os.symlink("/proc/self/environ", img / "environ.png")
    os.symlink("loop.png", img / "loop.png")
    os.symlink(outside / "secret.txt", img / "text.png")
    refs = ["![a](img/abs.png)", "![b](img/rel.png)", "![c](linked/secret.png)",
            "![d](img/chain.png)", "![e](img/environ.png)", "![f](img/loop.png)",
            "![g](img/text.png)", "<img src=\"linked/secret.png\">"]
    lines = ["## Links", ""]
    for n, r in enumerate(refs, 1):
        lines += [f"{n}. What does this figure show?", "", r, "", "---", ""]
    (bank / "q.md").write_text("\n".join(lines[:-2]))
