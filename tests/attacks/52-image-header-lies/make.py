import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


import struct  # noqa: E402
import zlib  # noqa: E402


def make(bank: Path, outside: Path) -> None:
    img = bank / "img"
    img.mkdir()
    (img / "huge.png").write_bytes(png(100_000, 100_000, idat=zlib.compress(b"\0" * 1000)))
    (img / "zero.png").write_bytes(png(0, 5, idat=zlib.compress(b"")))
    (img / "huge.gif").write_bytes(b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x00\x00\x00"
                                   + b",\0\0\0\0" + struct.pack("<HH", 65535, 65535) + b"\0\x02\x02D\x01\0;")
    (img / "huge.jpg").write_bytes(b"\xff\xd8\xff\xc0\x00\x11\x08" + struct.pack(">HH", 65535, 65535)
                                   + b"\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01\xff\xda\x00\x08\x01\x01\x00\x00?\x00\xd2\xcf \xff\xd9")
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\0\0\0\0" + (16383).to_bytes(3, "little") * 2
    (img / "huge.webp").write_bytes(b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x)
    (img / "huge.bmp").write_bytes(b"BM" + struct.pack("<IHHI", 70, 0, 0, 54) + struct.pack(
        "<IiiHHIIiiII", 40, 2**31 - 1, 2**31 - 1, 1, 24, 0, 0, 0, 0, 0, 0) + b"\0" * 16)
    (img / "huge.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="1000000000" '
                                  'height="1000000000" viewBox="0 0 1e9 1e9"><rect width="1e9" height="1e9"/></svg>')
    (img / "big.png").write_bytes(png(7000, 6000, color=0))
    names = ["huge.png", "zero.png", "huge.gif", "huge.jpg", "huge.webp", "huge.bmp", "huge.svg", "big.png"]
    (bank / "q.md").write_text("## Images\n\n" + "\n---\n\n".join(
        f"{i}. What does this show?\n\n![{n}](img/{n})\n" for i, n in enumerate(names, 1)))
