import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _helpers import canary, png, typst_split  # noqa: E402,F401


def _chain(bank: Path, name: str, depth: int) -> None:
    """Folders `name` nested `depth` deep under bank, a question file at the bottom (made with
    dir_fd, so the total path may exceed PATH_MAX)."""
    fd = os.open(bank, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir(name, dir_fd=fd)
            nfd = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        qfd = os.open("deep.md", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(qfd, b"1. Deep?\n")
        os.close(qfd)
    finally:
        os.close(fd)


def make(bank: Path, outside: Path) -> None:
    _chain(bank, "p" * 200, 25)   # a path of about 5,000 bytes: over PATH_MAX
    _chain(bank, "d", 400)        # 400 levels: deep recursion in a recursive scan
    (bank / ("n" * 252 + ".md")).write_text("## Long\n\n1. Long name?\n")
