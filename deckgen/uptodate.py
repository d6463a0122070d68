"""Skip a build whose inputs and outputs are exactly as the last successful build left them."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import deckgen
from deckgen.atomic import write_bytes_atomic
from deckgen.config import Config
from deckgen.errors import Diagnostic, Location, Severity

RECORD_NAME = ".deckgen-build.json"


def _files(root: Path, skip: list[Path]) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and
                             (here / d).resolve() not in skip)
        out.extend(here / f for f in sorted(filenames) if not f.startswith("."))
    return out


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fingerprint(cfg: Config, options: dict[str, Any]) -> str:
    """Hash of everything a build reads: the bank directory's files (questions, answers,
    figures, lock, settings), template overrides, the default templates, deckgen's own code
    and the build options."""
    h = hashlib.sha256()
    h.update(json.dumps({"version": deckgen.__version__, "options": options,
                         "config": repr(cfg)}, sort_keys=True, default=str).encode())
    skip = [cfg.out.resolve()]
    package = Path(deckgen.__file__).parent
    roots = [cfg.root, package]
    try:
        from importlib import resources
        roots.append(Path(str(resources.files("deckgen.renderers"))))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover
        pass
    if cfg.templates:
        roots.append(cfg.templates)
    for root in roots:
        for path in _files(root, skip):
            if path.suffix in (".pyc",):
                continue
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def record_path(cfg: Config) -> Path:
    return cfg.out / RECORD_NAME


def up_to_date(cfg: Config, fp: str) -> dict[str, Any] | None:
    """The last build's record if nothing changed since (outputs included), else None."""
    try:
        record = json.loads(record_path(cfg).read_text())
    except (OSError, ValueError):
        return None
    if record.get("fingerprint") != fp:
        return None
    for path, digest in record.get("outputs", {}).values():
        p = Path(path)
        if not p.is_file() or _sha(p) != digest:
            return None
    return record


def save(cfg: Config, fp: str, written: dict[str, Path], summary: dict[str, Any],
         diagnostics: list[Diagnostic]) -> None:
    record = {"fingerprint": fp,
              "outputs": {fmt: [str(p), _sha(p)] for fmt, p in written.items()},
              "summary": summary,
              "diagnostics": [dict(asdict(d), severity=d.severity.value) for d in diagnostics]}
    write_bytes_atomic(record_path(cfg), json.dumps(record, indent=1).encode())


def diagnostics_of(record: dict[str, Any]) -> list[Diagnostic]:
    out = []
    for d in record.get("diagnostics", []):
        loc = Location(**d["loc"]) if d.get("loc") else None
        out.append(Diagnostic(loc, d["message"], d["code"], Severity(d["severity"])))
    return out
