"""Limits on what a Markdown file may nest, checked before markdown-it reads it.

markdown-it stops reading blocks at its nesting limit (20 levels) and silently drops the rest
of the file from there, and its syntax tree is built by recursion, so a file with hundreds of
nested quotes, list levels or emphasis marks would lose questions without a word or end the
build with a RecursionError. No bank written by hand comes near these limits; a file that
does gets an error naming its line, and its questions are not read. Very long lines are
read, with a warning (they make cards slow to typeset and unreadable on a phone).
"""

from __future__ import annotations

import re

from deckgen.errors import Diagnostic, Location, Severity
from deckgen.parse.repairs import FENCE, Normalized

MAX_DEPTH = 16
"""Block quotes and list levels, together, one line may be inside."""
MAX_EMPHASIS_RUN = 48
"""Emphasis marks (``*``, ``_``, ``~``) in a row next to text."""
LONG_LINE = 20_000
"""Characters after which a line is reported as too long."""
MAX_FILE_BYTES = 64 << 20
"""A question or answers file larger than this (64 MiB) is an error, not read."""


def read_bank_file(path) -> bytes:
    """A question or answers file's bytes: only a regular file (a FIFO or a device would
    block or never end), at most ``MAX_FILE_BYTES`` (a sparse 10 GB file is not read).
    OSError otherwise, with a reason a person can read in ``strerror``."""
    import os
    import stat

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(0, "not a regular file (a pipe, a device or a folder?)", str(path))
        if st.st_size > MAX_FILE_BYTES:
            raise OSError(0, f"{st.st_size:,} bytes, more than deckgen reads "
                             f"({MAX_FILE_BYTES >> 20} MiB)", str(path))
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_FILE_BYTES:
            raise OSError(0, f"more than {MAX_FILE_BYTES >> 20} MiB", str(path))
        return b"".join(chunks)
    finally:
        os.close(fd)

_CONTAINER = re.compile(r"( {0,3})(?:>|[-*+](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$))[ \t]?")
_LIST_ITEM = re.compile(r"( *)([-*+]|\d{1,9}[.)])([ \t]+|$)")
_EMPHASIS_RUN = re.compile(r"[*_~]{%d,}" % (MAX_EMPHASIS_RUN + 1))
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1)*[ \t]*$")
_CODE_SPAN = re.compile(r"(`+).*?\1")


def _markers(line: str) -> int:
    """How many quote and list markers open the line (``> - > 1. text`` has four)."""
    n, i = 0, 0
    while True:
        m = _CONTAINER.match(line, i)
        if not m or m.end() == i:
            return n
        n, i = n + 1, m.end()


def problems(norm: Normalized, path: str) -> list[Diagnostic]:
    """Errors for nesting past the limits (the first line of each kind) and warnings for the
    first few very long lines, located in the original file."""
    out: list[Diagnostic] = []
    open_items: list[int] = []  # content indents of the list items the line may sit in
    fence: str | None = None
    deep = emphatic = False
    long_lines = 0
    for index, line in enumerate(norm.text.split("\n")):
        where = Location(path, norm.line(index))
        if len(line) > LONG_LINE and long_lines < 3:
            long_lines += 1
            out.append(Diagnostic(where, f"line is {len(line):,} characters long; cards with "
                                  "lines this long are slow to build and hard to read",
                                  "long-line", Severity.WARNING))
        m = FENCE.match(line)
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            continue
        if m:
            fence = m.group(1)
            continue
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        while open_items and open_items[-1] > indent:
            open_items.pop()
        item = _LIST_ITEM.match(line)
        depth = len(open_items) + _markers(line[indent:] if item else line)
        if item:
            open_items.append(indent + len(item.group(2)) + max(len(item.group(3)), 1))
        if depth > MAX_DEPTH and not deep:
            deep = True
            out.append(Diagnostic(where, f"this line is nested {depth} levels deep (quotes "
                                  f"and lists); deckgen reads at most {MAX_DEPTH}, so this "
                                  "file's questions were not read", "too-deep"))
        if not emphatic and not _RULE.match(line):
            run = _EMPHASIS_RUN.search(_CODE_SPAN.sub("", line))
            if run:
                emphatic = True
                out.append(Diagnostic(where, f"{len(run.group()):,} emphasis marks in a row; "
                                      f"deckgen reads at most {MAX_EMPHASIS_RUN}, so this "
                                      "file's questions were not read", "too-deep"))
    return out
