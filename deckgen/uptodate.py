"""Skip a build whose inputs and outputs are exactly as the last successful build left them.

The record (``<out>/.deckgen-build.json``) is committed with the outputs and the lock file, in
one commit (atomic.py). It holds the fingerprint of the inputs taken *before* the build read
them: a file saved while the build runs makes the next build's fingerprint differ, so that
build runs (a save is never recorded as built). The lock file is left out of the fingerprint,
since the build itself rewrites it; the record holds the digest of the lock the build wrote
instead, so a lock changed since (a checkout) makes the next build run too.

The record is data like any file in a build folder (it may have come with a bank): anything
not of the expected shape is no record, and the fingerprint includes the identity of the bank
folder on this machine, so a record shipped with a bank never matches.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import deckgen
from deckgen.atomic import Staging, sha256
from deckgen.config import Config
from deckgen.errors import Diagnostic, Location, Severity
from deckgen.identity import LOCK_NAME

RECORD_NAME = ".deckgen-build.json"
RECORD_VERSION = 3
MAX_RECORD_BYTES = 64 * 1024 * 1024
SUMMARY_KEYS = ("cards", "answered", "media")


def _files(root: Path, skip: list[Path]) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and
                             (here / d).resolve() not in skip)
        out.extend(here / f for f in sorted(filenames) if not f.startswith("."))
    return out


def lock_path(cfg: Config) -> Path:
    return cfg.root / LOCK_NAME


def fingerprint(cfg: Config, options: dict[str, Any]) -> str:
    """Hash of everything a build reads but the lock file: the bank directory's files
    (questions, answers, figures, settings), template overrides, the default templates,
    deckgen's own code and the build options. Take it before the build reads anything."""
    h = hashlib.sha256()
    try:
        st = os.stat(cfg.root)
        here = [st.st_dev, st.st_ino]  # this copy of the bank, on this machine
    except OSError:
        here = []
    h.update(json.dumps({"version": deckgen.__version__, "options": options,
                         "config": repr(cfg), "bank": here, "record": RECORD_VERSION},
                        sort_keys=True, default=str).encode())
    skip = [cfg.out.resolve()]
    lock = lock_path(cfg)
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
            if path.suffix in (".pyc",) or path == lock:
                continue
            try:
                data = _content(path)
            except OSError:  # unreadable (or gone meanwhile): the build will say so
                data = b"\0unreadable"
            h.update(str(path.relative_to(root)).encode() + b"\0" + data + b"\0")
    return h.hexdigest()


def _content(path: Path) -> bytes:
    """What stands for a file in the fingerprint: its bytes; for anything but a regular file
    (a pipe would block the build) its kind, and for a file too big to read (a bank file
    over 64 MiB is refused anyway) its size and time."""
    import os
    import stat

    from deckgen.parse.limits import MAX_FILE_BYTES, read_bank_file

    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        return f"\0special {stat.S_IFMT(st.st_mode)}".encode()
    if st.st_size > MAX_FILE_BYTES:
        return f"\0large {st.st_size} {st.st_mtime_ns}".encode()
    return read_bank_file(path)


def record_path(cfg: Config) -> Path:
    return cfg.out / RECORD_NAME


def _is_int(value: Any) -> bool:
    return type(value) is int and value >= 0


def _valid(record: Any) -> bool:
    """Whether a parsed record has the shape ``stage`` writes (diagnostics aside)."""
    if not isinstance(record, dict) or record.get("version") != RECORD_VERSION:
        return False
    if not isinstance(record.get("fingerprint"), str) or \
            not isinstance(record.get("lock"), str):
        return False
    outputs = record.get("outputs")
    if not isinstance(outputs, dict) or not all(
            isinstance(fmt, str) and isinstance(files, list) and all(
                isinstance(f, list) and len(f) == 2 and all(isinstance(x, str) for x in f)
                for f in files) for fmt, files in outputs.items()):
        return False
    summary = record.get("summary")
    return isinstance(summary, dict) and set(summary) == set(SUMMARY_KEYS) and \
        all(_is_int(v) for v in summary.values()) and \
        isinstance(record.get("diagnostics"), list)


def up_to_date(cfg: Config, fp: str) -> dict[str, Any] | None:
    """The last build's record if nothing changed since (outputs and lock included), else
    None (also for a record that is missing, unreadable or of the wrong shape)."""
    path = record_path(cfg)
    try:
        if path.stat().st_size > MAX_RECORD_BYTES:
            return None
        record = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if not _valid(record) or record["fingerprint"] != fp:
        return None
    if sha256(lock_path(cfg)) != record["lock"]:
        return None
    try:
        record["diagnostics"] = diagnostics_of(record)
    except (TypeError, ValueError, KeyError, AttributeError):
        return None
    for files in record["outputs"].values():
        for p, digest in files:
            if sha256(Path(p)) != digest:
                return None
    return record


def stage(staging: Staging, cfg: Config, fp: str, written: dict[str, list[Path]],
          summary: dict[str, Any], diagnostics: list[Diagnostic]) -> None:
    """Stage the record of this build (to be committed with its outputs and the lock)."""
    lock = lock_path(cfg)
    record = {"version": RECORD_VERSION, "fingerprint": fp,
              "lock": staging.digest(lock) or sha256(lock) or "",
              "outputs": {fmt: [[str(p), staging.digest(p) or sha256(p) or ""] for p in files]
                          for fmt, files in written.items()},
              "summary": summary,
              "diagnostics": [dict(asdict(d), severity=d.severity.value) for d in diagnostics]}
    staging.stage_bytes(record_path(cfg), json.dumps(record, indent=1).encode())


def diagnostics_of(record: dict[str, Any]) -> list[Diagnostic]:
    """The diagnostics a record keeps (already parsed ones are returned as they are)."""
    out = []
    for d in record.get("diagnostics", []):
        if isinstance(d, Diagnostic):
            out.append(d)
            continue
        loc = d.get("loc")
        if loc is not None:
            if not (isinstance(loc, dict) and set(loc) == {"path", "line"} and
                    isinstance(loc["path"], str) and _is_int(loc["line"])):
                raise ValueError("bad location")
            loc = Location(loc["path"], loc["line"])
        if not isinstance(d["message"], str) or not isinstance(d["code"], str):
            raise ValueError("bad diagnostic")
        out.append(Diagnostic(loc, d["message"], d["code"], Severity(d["severity"])))
    return out
