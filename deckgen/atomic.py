"""Write files so that a failure never leaves a half-written file over the last good one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

# mkstemp creates files readable by their owner only; outputs get the usual permissions
_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK


def _temp_beside(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(name, FILE_MODE)
    return Path(name)


def write_atomic(path: Path, write: Callable[[Path], None]) -> bool:
    """Call ``write(tmp)`` then rename ``tmp`` over ``path``.

    Returns False (and leaves ``path`` untouched, mtime included) when the new bytes equal the
    old ones, so an unchanged rebuild rewrites nothing.
    """
    tmp = _temp_beside(path)
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
    def write(tmp: Path) -> None:
        tmp.write_bytes(data)
    return write_atomic(path, write)


def _same(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    return a.read_bytes() == b.read_bytes()


class Staging:
    """Outputs of one build, written to temporary files and renamed into place together.

    Nothing replaces a previous output until every output has been produced, so a build that
    fails or is interrupted halfway leaves all previous outputs as they were.
    """

    def __init__(self) -> None:
        self.staged: list[tuple[Path, Path]] = []

    def stage(self, path: Path, write: Callable[[Path], None]) -> None:
        tmp = _temp_beside(path)
        self.staged.append((path, tmp))
        write(tmp)

    def stage_bytes(self, path: Path, data: bytes) -> None:
        def write(tmp: Path) -> None:
            tmp.write_bytes(data)
        self.stage(path, write)

    def commit(self) -> dict[Path, bool]:
        """Rename every staged file over its target; True where the content changed."""
        changed = {}
        for path, tmp in self.staged:
            if path.is_file() and _same(tmp, path):
                tmp.unlink()
                changed[path] = False
                continue
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)
            changed[path] = True
        self.staged = []
        return changed

    def abort(self) -> None:
        for _, tmp in self.staged:
            tmp.unlink(missing_ok=True)
        self.staged = []
