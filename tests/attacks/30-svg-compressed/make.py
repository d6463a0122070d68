import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401

import gzip  # noqa: E402

SVG = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
       'width="10" height="10" onload="alert(1)"><script>alert(2)</script>'
       '<image href="https://evil.example/t.png" width="1" height="1"/>'
       '<a xlink:href="javascript:alert(3)"><rect width="5" height="5"/></a></svg>')


def make(bank: Path, outside: Path) -> None:
    img = bank / "img"
    img.mkdir()
    (img / "disguised.svg").write_bytes(gzip.compress(SVG.encode()))
    (img / "plain.svgz").write_bytes(gzip.compress(SVG.encode()))
    (img / "fake.png").write_bytes(SVG.encode())
    (bank / "q.md").write_text("## Z\n\n1. What does ![a](img/disguised.svg) show?\n\n---\n\n"
                               "2. What does ![b](img/plain.svgz) show?\n\n---\n\n"
                               "3. What does <img src=\"img/fake.png\"> show?\n")
