"""Shared helpers for the make.py scripts of the attack banks (not an attack itself)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path


def canary(outside: Path) -> str:
    return (outside / "secret.txt").read_text().strip()


def typst_split(c: str) -> str:
    """Typst code that evaluates to the canary; its source text does not contain it."""
    return f'#("{c[:4]}" + "{c[4:]}")'


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png(width: int = 1, height: int = 1, text: str | None = None, idat: bytes | None = None,
        depth: int = 8, color: int = 2) -> bytes:
    """A PNG; `idat` overrides the pixel data (to lie about the size)."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    if idat is None:
        bpp = {0: 1, 2: 3, 4: 2, 6: 4}[color] * depth // 8
        idat = zlib.compress((b"\0" + b"\x7f" * (width * bpp)) * height)
    body = _chunk(b"IHDR", ihdr)
    if text is not None:
        body += _chunk(b"tEXt", b"Comment\0" + text.encode())
    return b"\x89PNG\r\n\x1a\n" + body + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
