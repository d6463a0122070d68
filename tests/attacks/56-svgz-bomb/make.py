import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


import gzip  # noqa: E402


def make(bank: Path, outside: Path) -> None:
    img = bank / "img"
    img.mkdir()
    for name in ("bomb.svgz", "bomb.svg"):
        with gzip.open(img / name, "wb", compresslevel=9) as g:
            g.write(b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><!--')
            block = b" " * (1 << 20)
            for _ in range(1024):
                g.write(block)
            g.write(b"--><rect width=\"5\" height=\"5\"/></svg>")
    (bank / "q.md").write_text("## Zip\n\n1. What does ![a](img/bomb.svgz) show?\n\n---\n\n"
                               "2. What does ![b](img/bomb.svg) show?\n")
