"""Write files so that a failure never leaves a half-written file over the last good one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_atomic(path: Path, write: Callable[[Path], None]) -> bool:
    """Call ``write(tmp)`` then rename ``tmp`` over ``path``.

    Returns False (and leaves ``path`` untouched, mtime included) when the new bytes equal the
    old ones, so an unchanged rebuild rewrites nothing.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        if path.is_file() and _same(tmp, path):
            tmp.unlink()
            return False
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return True
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: Path, data: bytes) -> bool:
    return write_atomic(path, lambda tmp: tmp.write_bytes(data))


def _same(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    return a.read_bytes() == b.read_bytes()
