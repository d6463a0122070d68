"""Which banks this user trusts to run their code.

A bank may come from a stranger, and its answers can hold Python that a build runs. So a bank
is *untrusted* unless this user said otherwise: by ``deckgen trust DIR`` (remembered), by
answering yes when a build asks (remembered), by ``--trust`` (this command only), or by
creating it with ``deckgen new``. An untrusted bank is built as with ``--no-exec``
(``config.untrusted``): no code runs, its files and outputs stay inside its folder, its
templates are not used.

The list of trusted banks is data outside every bank: ``$DECKGEN_TRUST_FILE``, else
``trusted-banks.json`` next to the cache key (``~/.config/deckgen/``). It holds resolved
folder paths; anything unreadable or of the wrong shape in it trusts nothing (and is
replaced, whole, the next time a bank is trusted).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from deckgen import trustcache
from deckgen.atomic import write_bytes_atomic

FILE_ENV = "DECKGEN_TRUST_FILE"
_LIMIT = 1 << 20
_CELL_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*\{python\}", re.MULTILINE)
_INLINE_CELL = re.compile(r"`\{python\}[ \t]")


def store() -> Path:
    """Where this user's list of trusted banks is kept."""
    explicit = os.environ.get(FILE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    return trustcache.key_file().parent / "trusted-banks.json"


def _key(root: Path) -> str:
    return str(root.expanduser().resolve())


def listed() -> list[str]:
    """The trusted bank folders (resolved paths), in the order they were trusted."""
    data = trustcache.read_json(store(), _LIMIT)
    banks = data.get("banks") if isinstance(data, dict) and data.get("version") == 1 else None
    if not isinstance(banks, list):
        return []
    return [b for b in banks if isinstance(b, str) and os.path.isabs(b)]


def trusted(root: Path) -> bool:
    """Whether this user trusts the bank in folder ``root``."""
    return _key(root) in listed()


def _save(banks: list[str]) -> None:
    path = store()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = json.dumps({"version": 1, "banks": banks}, indent=1) + "\n"
    write_bytes_atomic(path, data.encode("utf-8"))


def remember(root: Path) -> bool:
    """Trust the bank in ``root`` from now on; False if it already was."""
    key = _key(root)
    banks = listed()
    if key in banks:
        return False
    _save([*banks, key])
    return True


def forget(root: Path) -> bool:
    """Stop trusting the bank in ``root``; False if it was not trusted."""
    key = _key(root)
    banks = listed()
    if key not in banks:
        return False
    _save([b for b in banks if b != key])
    return True


@dataclass(frozen=True)
class Reasons:
    """What trusting a bank would allow, for the question a build asks."""

    cells: dict[str, int]
    """Answers file (as shown) -> how many Python cells and inline values it holds."""
    templates: Path | None
    outside: list[Path]
    """Bank files or outputs its settings place outside its folder."""

    def __bool__(self) -> bool:
        return bool(self.cells or self.templates or self.outside)

    def lines(self) -> list[str]:
        out = [f"{n} Python cell(s) in {name}" for name, n in self.cells.items()]
        if self.templates is not None:
            out.append(f"its own card templates ({self.templates})")
        if self.outside:
            out.append("files or outputs outside its folder: "
                       + ", ".join(map(str, self.outside[:3])))
        return out


def reasons(cfg, out_given: bool) -> Reasons:
    """What the bank of ``cfg`` would do that an untrusted bank may not (read from the
    files' text: an estimate for the question, not the build's own reading)."""
    from deckgen.pipeline import display_path

    cells: dict[str, int] = {}
    for path in cfg.answers:
        data = trustcache.read_bytes(path, 64 << 20) if path.is_file() else None
        text = (data or b"").decode("utf-8", "replace")
        n = len(_CELL_FENCE.findall(text)) + len(_INLINE_CELL.findall(text))
        if n:
            cells[display_path(path)] = n
    for path in cfg.sources:  # inline values may sit in the question file too
        data = trustcache.read_bytes(path, 64 << 20) if path.is_file() else None
        n = len(_INLINE_CELL.findall((data or b"").decode("utf-8", "replace")))
        if n:
            name = display_path(path)
            cells[name] = cells.get(name, 0) + n
    root = cfg.root.resolve()

    def inside(p: Path) -> bool:
        try:
            r = p.resolve()
        except (OSError, RuntimeError):  # a symlink loop
            return False
        return r == root or root in r.parents

    outside = [p for p in (*cfg.sources, *cfg.answers) if not inside(p)]
    if not out_given and not inside(cfg.out):
        outside.append(cfg.out)
    return Reasons(cells, cfg.templates, outside)
