import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def make(bank: Path, outside: Path) -> None:
    img = bank / "img"
    img.mkdir()
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
             'width="100" height="100"><defs><g id="a0"><rect width="1" height="1"/></g>']
    for lvl in range(1, 11):
        parts.append(f'<g id="a{lvl}">' + f'<use xlink:href="#a{lvl - 1}"/>' * 10 + "</g>")
    parts.append('</defs><use xlink:href="#a10"/></svg>')
    (img / "bomb.svg").write_text("".join(parts))
    (img / "loop.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        '<g id="r"><use href="#s"/></g><g id="s"><use href="#r"/></g><use href="#r"/></svg>')
    (bank / "q.md").write_text("## Bombs\n\n1. What does ![b](img/bomb.svg) show?\n\n---\n\n"
                               "2. What does ![l](img/loop.svg) show?\n")
