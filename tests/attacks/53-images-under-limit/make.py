import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


import zlib  # noqa: E402


def make(bank: Path, outside: Path) -> None:
    img = bank / "img"
    img.mkdir()
    w = h = 6300
    for k in range(3):
        row = b"\0" + bytes([k]) * (w * 8)
        z = zlib.compressobj(9)
        data = b"".join(z.compress(row) for _ in range(h)) + z.flush()
        (img / f"p{k}.png").write_bytes(png(w, h, idat=data, depth=16, color=6))
    qs = [f"{k + 1}. What does this show?\n\n![p](img/p{k}.png)\n" for k in range(3)]
    qs += [f"{k}. And this?\n\n![p](img/p0.png)\n" for k in range(4, 44)]
    (bank / "q.md").write_text("## Big\n\n" + "\n---\n\n".join(qs))
