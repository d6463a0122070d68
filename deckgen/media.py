"""Media files for cards: bank images and computed plots, under content-hashed names."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

from deckgen.errors import Diagnostic, Location, Severity

IMAGE_TYPES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}


MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 3.5 MB PNG declaring 30000x30000 once took 7 GB to show
MAX_SIDE = 20_000


def image_size(data: bytes, suffix: str) -> tuple[int, int] | None:
    """Width and height declared in an image's header, without decoding it (None: unknown)."""
    try:
        if suffix == ".png" and data[12:16] == b"IHDR":
            return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        if suffix == ".gif" and len(data) >= 10:
            return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
        if suffix == ".webp" and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            chunk = data[12:16]
            if chunk == b"VP8X":
                return (int.from_bytes(data[24:27], "little") + 1,
                        int.from_bytes(data[27:30], "little") + 1)
            if chunk == b"VP8L":
                bits = int.from_bytes(data[21:25], "little")
                return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
            if chunk == b"VP8 ":
                return (int.from_bytes(data[26:28], "little") & 0x3FFF,
                        int.from_bytes(data[28:30], "little") & 0x3FFF)
        if suffix in (".jpg", ".jpeg"):
            i = 2
            while i + 9 < len(data) and data[i] == 0xFF:
                marker, length = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
                if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB,
                              0xCD, 0xCE, 0xCF):
                    return (int.from_bytes(data[i + 7:i + 9], "big"),
                            int.from_bytes(data[i + 5:i + 7], "big"))
                i += 2 + length
    except (IndexError, ValueError):
        return None
    return None


def image_problem(data: bytes, suffix: str) -> str | None:
    """Why these bytes cannot be the image their name says, or None (a cheap sanity check);
    images too large to show safely (bytes, or pixels their header declares) are refused."""
    if len(data) > MAX_IMAGE_BYTES:
        return f"is {len(data) // (1024 * 1024)} MB; images over {MAX_IMAGE_BYTES // 2**20} MB " \
            "are not packed"
    size = image_size(data, suffix)
    if size and (size[0] * size[1] > MAX_PIXELS or max(size) > MAX_SIDE):
        return (f"declares {size[0]}x{size[1]} pixels; images over {MAX_PIXELS // 10**6} "
                f"megapixels or {MAX_SIDE} pixels a side are not packed")
    if suffix == ".png" and not (data.startswith(b"\x89PNG\r\n\x1a\n") and b"IHDR" in data[:40]
                                 and b"IEND" in data[-16:]):
        return "is not a complete PNG file"
    if suffix in (".jpg", ".jpeg") and not (data.startswith(b"\xff\xd8") and
                                            b"\xff\xd9" in data[-4:]):
        return "is not a complete JPEG file"
    if suffix == ".gif" and not data.startswith((b"GIF87a", b"GIF89a")):
        return "is not a GIF file"
    if suffix == ".svg" and b"<svg" not in data[:4096]:
        return "is not an SVG file"
    return None


def hashed_name(data: bytes, suffix: str) -> str:
    """``deckgen-<hash><suffix>``: same bytes, same name, so Anki's media never churns."""
    return f"deckgen-{hashlib.sha256(data).hexdigest()[:20]}{suffix.lower()}"


@dataclass
class MediaStore:
    """Collects every file the cards reference; refuses paths that leave the bank."""

    root: Path
    """The bank's directory: images must resolve inside it."""
    files: dict[str, bytes] = field(default_factory=dict)
    """name -> content, for the package."""
    sources: dict[str, str] = field(default_factory=dict)
    """name -> where it came from (a bank path or 'computed')."""
    diagnostics: list[Diagnostic] = field(default_factory=list)
    _by_path: dict[Path, str] = field(default_factory=dict)

    def add_bytes(self, data: bytes, suffix: str, origin: str = "computed") -> str:
        name = hashed_name(data, suffix)
        self.files[name] = data
        self.sources.setdefault(name, origin)
        return name

    def image(self, src: str, base: Path, loc: Location) -> str | None:
        """The media name for an image reference, or None (with a diagnostic) if unusable."""
        url = urlparse(src)
        if url.scheme in ("http", "https", "ftp") or src.startswith("//"):
            self.diagnostics.append(Diagnostic(
                loc, f"remote image '{src}' is not fetched at build time; download it into the "
                "bank and reference the local file", "remote-image", Severity.WARNING))
            return None
        if url.scheme or not src.strip():
            self.diagnostics.append(Diagnostic(loc, f"image source '{src}' is not a file path",
                                               "bad-image"))
            return None
        rel = unquote(url.path)
        if PurePosixPath(rel).is_absolute() or Path(rel).is_absolute():
            self.diagnostics.append(Diagnostic(
                loc, f"image path '{src}' is absolute; use a path inside the bank", "unsafe-path"))
            return None
        target = (base / rel)
        try:
            resolved = target.resolve(strict=False)
            root = self.root.resolve()
        except (OSError, RuntimeError) as exc:  # a symlink loop (RuntimeError before 3.13)
            self.diagnostics.append(Diagnostic(loc, f"cannot resolve image '{src}': {exc}",
                                               "bad-image"))
            return None
        if root != resolved and root not in resolved.parents:
            self.diagnostics.append(Diagnostic(
                loc, f"image path '{src}' leaves the bank directory {self.root}", "unsafe-path"))
            return None
        if resolved in self._by_path:
            return self._by_path[resolved]
        if not resolved.is_file():
            self.diagnostics.append(Diagnostic(loc, f"image '{src}' not found (looked for "
                                               f"{target})", "missing-image"))
            return None
        if resolved.suffix.lower() not in IMAGE_TYPES:
            self.diagnostics.append(Diagnostic(loc, f"'{src}' is not an image type deckgen "
                                               "packs (png, jpg, gif, svg, webp)", "bad-image"))
            return None
        data = resolved.read_bytes()
        problem = image_problem(data, resolved.suffix.lower())
        if problem:
            self.diagnostics.append(Diagnostic(loc, f"image '{src}' {problem}", "bad-image"))
            return None
        if resolved.suffix.lower() == ".svg":
            from deckgen.render.svg import sanitize_svg
            cleaned, removed = sanitize_svg(data)
            if cleaned is None:
                self.diagnostics.append(Diagnostic(loc, f"image '{src}' {removed[0]}",
                                                   "bad-image"))
                return None
            if removed:
                self.diagnostics.append(Diagnostic(
                    loc, f"image '{src}': removed {', '.join(sorted(set(removed)))} (scripts, "
                    "event handlers and outside references never reach a card)",
                    "svg-sanitized", Severity.WARNING))
            data = cleaned
        name = self.add_bytes(data, resolved.suffix, str(target))
        self._by_path[resolved] = name
        return name
