"""Images from a stranger's bank: bounded in size, and SVGs packed without active content."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from conftest import write_bank
from deckgen import config
from deckgen.media import image_size
from deckgen.pipeline import build, gather
from deckgen.render.svg import sanitize_svg


def png(width: int, height: int, pixels: bool = True) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\x80" * (3 * width) for _ in range(height)) if pixels else b""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                              0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def bank_with(tmp_path: Path, name: str, data: bytes) -> Path:
    bank = write_bank(tmp_path / "b", f"1. What does this show?\n\n![fig](img/{name})\n",
                      "## 1\nA drawing.\n")
    (bank / "img").mkdir()
    (bank / "img" / name).write_bytes(data)
    return bank


def test_headers_give_sizes_without_decoding():
    assert image_size(png(3, 2), ".png") == (3, 2)
    assert image_size(b"GIF89a\x10\x00\x20\x00", ".gif") == (16, 32)


def test_an_image_declaring_a_huge_size_is_refused_with_its_location(tmp_path):
    bank = bank_with(tmp_path, "bomb.png", png(30000, 30000, pixels=False))
    diags = gather(config.load(bank)).diagnostics
    [d] = [d for d in diags if d.code == "bad-image"]
    assert d.loc.line == 3 and "30000x30000" in d.message


def test_svg_scripts_handlers_and_outside_references_never_reach_a_card(tmp_path):
    evil = (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
            b' onload="alert(1)"><script>alert(2)</script>'
            b'<a xlink:href="javascript:alert(3)"><rect width="4" height="4" onclick="x()"/></a>'
            b'<image href="https://evil.example/x.png"/><image href="data:image/png;base64,AA=="/>'
            b'<foreignObject><div>hi</div></foreignObject>'
            b'<rect style="fill: url(https://evil.example/p)"/><circle r="2"/></svg>')
    bank = bank_with(tmp_path, "fig.svg", evil)
    result = build(config.override(config.load(bank), out=tmp_path / "out", formats=("json",)))
    [warning] = [d for d in result.diagnostics if d.code == "svg-sanitized"]
    assert warning.loc.line == 3
    [packed] = result.deck.media.values()
    for bad in (b"alert", b"<script", b"onload", b"onclick", b"javascript:", b"evil.example",
                b"foreignObject"):
        assert bad not in packed, bad
    assert b"<circle" in packed and b"data:image/png" in packed


def test_an_svg_with_entities_is_refused():
    cleaned, why = sanitize_svg(b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]>'
                                b'<svg xmlns="http://www.w3.org/2000/svg">&a;</svg>')
    assert cleaned is None and "DOCTYPE" in why[0]


def test_a_clean_svg_is_packed_as_it_is():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0L1 1"/></svg>'
    assert sanitize_svg(svg) == (svg, [])
