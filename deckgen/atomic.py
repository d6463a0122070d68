"""Write files so that no failure leaves a half-written file, and commit several files so that a
crash leaves either all of the old ones or all of the new ones.

One file (``write_atomic``): written to a temporary file beside it, flushed to disk, renamed
over it.

A set of files (``Staging``, e.g. a build's outputs with the bank's lock file): every file is
written to a temporary file beside its target and flushed first; nothing is replaced until all
of them exist. With more than one file to replace, a *journal* (``.deckgen-commit-*.json``,
itself written atomically) then lists the renames, and is the commit point:

- killed before the journal exists: the old files are untouched; the temporary files are
  deleted by the next ``recover`` (the next build);
- killed after: the next ``recover`` reads the journal and finishes the renames (roll
  forward) before anything else reads the files, then deletes the journal.

Every build calls ``recover`` for its bank and output folders before it looks at anything, and
reading the lock file does for the bank's folder, so no deckgen command sees a half-committed
set. A file changed by someone else since the journal was written is not overwritten (a save
made after the crash wins).

Temporary files are named ``.<name>.<8 random characters>.tmp`` and locked (``flock``) by the
process that writes them for as long as it needs them, so ``recover`` deletes only those of
processes that died (a lock ends with its process, ``kill -9`` included), never those of a build
running at the same time. Journals are locked the same way.

Disk faults (read-only folder, full disk) are raised as ``DiskError``: an ``OSError`` (callers
that catch those still do) that is also a ``DeckgenError``, so the command line prints its
message, which names the path, instead of a traceback.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from deckgen.errors import DeckgenError, Location

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: temporary files are aged out instead
    fcntl = None  # type: ignore[assignment]

# mkstemp creates files readable by their owner only; outputs get the usual permissions
_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK

TEMP_MARK = ".deckgen-"
TEMP = re.compile(r"\..+\.deckgen-[A-Za-z0-9_]{8}\.tmp")
"""The names of temporary files: ``.<target name>.deckgen-<random>.tmp``."""
ANY_TEMP = re.compile(r"\..+\.(?:deckgen-)?[A-Za-z0-9_]{8}\.tmp")
"""Also those of older deckgen versions (no mark): swept only where deckgen owns every file
(the cache)."""
JOURNAL_PREFIX = ".deckgen-commit-"
JOURNAL = re.compile(r"\.deckgen-commit-[0-9a-f]{16}\.json")
JOURNAL_FORMAT = "deckgen-commit"
MAX_JOURNAL_BYTES = 1024 * 1024
NOTHING_REPLACED = "nothing was replaced"
STALE_SECONDS = 3600
"""Without ``flock``: temporary files older than this are taken for a dead process's."""


class DiskError(DeckgenError, OSError):
    """A file could not be written (read-only folder, full disk...): the message names it."""

    def __init__(self, message: str, cause: OSError | None = None, loc: Location | None = None,
                 code: str = "disk-error"):
        super().__init__(message, loc, code)
        if cause is not None:
            self.errno, self.strerror, self.filename = cause.errno, cause.strerror, \
                cause.filename


def shown(path: Path | str) -> str:
    """A path in a message: relative to the working directory when inside it."""
    try:
        return str(Path(os.path.abspath(path)).relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def reason(exc: OSError) -> str:
    """Why an OSError happened, in words, with a hint for the usual disk faults."""
    why = exc.strerror or str(exc) or type(exc).__name__
    hint = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
            errno.EROFS: "the file system is read-only",
            errno.EACCES: "the folder is read-only or not yours",
            errno.EPERM: "the folder is read-only or not yours"}.get(exc.errno or 0)
    return f"{why} ({hint})" if hint else why


def disk_error(path: Path | str, exc: OSError, what: str = "cannot write",
               then: str = "") -> DiskError:
    if isinstance(exc, DiskError):
        return exc
    return DiskError(f"{what} {shown(path)}: {reason(exc)}" + (f"; {then}" if then else ""), exc)


P = ParamSpec("P")
R = TypeVar("R")


def disk_faults_reported(then: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: any OSError the function lets through becomes a DiskError naming its file
    (``then`` says what became of the previous files)."""
    def wrap(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return function(*args, **kwargs)
            except DiskError:
                raise
            except OSError as exc:
                where = exc.filename if exc.filename is not None else "a file"
                raise disk_error(where, exc, "cannot read or write", then) from exc
        return wrapped
    return wrap


# -- temporary files, each locked by the process that writes it ------------------------------

def _lock(fd: int) -> bool:
    """Take the lock of an open file without waiting; False if another process holds it."""
    if fcntl is None:  # pragma: no cover
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:  # a file system without locks: nobody can tell, so nobody waits
        return True
    return True


def _new_temp(path: Path, then: str = "") -> tuple[Path, int]:
    """A new temporary file beside ``path`` and its open, locked descriptor."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise disk_error(path.parent, exc, "cannot create the folder", then) from exc
    for _ in range(3):
        try:
            fd, name = tempfile.mkstemp(prefix=f".{path.name}{TEMP_MARK}", suffix=".tmp",
                                        dir=path.parent)
        except OSError as exc:
            raise disk_error(path, exc, then=then) from exc
        _lock(fd)
        try:  # a cleaner may have taken it for a dead process's before it was locked
            if os.stat(name).st_ino == os.fstat(fd).st_ino:
                os.chmod(name, FILE_MODE)
                return Path(name), fd
        except FileNotFoundError:
            pass
        except OSError as exc:
            os.close(fd)
            raise disk_error(path, exc, then=then) from exc
        os.close(fd)
    raise DiskError(f"cannot write {shown(path)}: its temporary file keeps disappearing")


def _close(fd: int | None) -> None:
    if fd is not None:
        try:
            os.close(fd)
        except OSError:
            pass


def _fsync_dirs(dirs: Iterable[Path]) -> None:
    """Make renames in these folders durable (where the file system allows it)."""
    for d in dict.fromkeys(dirs):
        try:
            fd = os.open(d, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)


def _same(a: Path, b: Path) -> bool:
    try:
        if a.stat().st_size != b.stat().st_size:
            return False
        return a.read_bytes() == b.read_bytes()
    except OSError:
        return False


def _holds(path: Path, data: bytes) -> bool:
    try:
        return path.is_file() and path.stat().st_size == len(data) and \
            path.read_bytes() == data
    except OSError:
        return False


def sha256(path: Path) -> str | None:
    """The file's SHA-256 (hex), or None if it cannot be read."""
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


def write_atomic(path: Path, write: Callable[[Path], None]) -> bool:
    """Call ``write(tmp)`` then rename ``tmp`` over ``path``.

    Returns False (and leaves ``path`` untouched, mtime included) when the new bytes equal the
    old ones, so an unchanged rebuild rewrites nothing. Raises DiskError on disk faults.
    """
    tmp, fd = _new_temp(path)
    try:
        write(tmp)
        if path.is_file() and _same(tmp, path):
            tmp.unlink()
            return False
        os.fsync(fd)
        os.replace(tmp, path)
        return True
    except OSError as exc:
        raise disk_error(path, exc) from exc
    finally:
        try:
            tmp.unlink(missing_ok=True)  # gone already when renamed
        except OSError:
            pass
        _close(fd)


def write_bytes_atomic(path: Path, data: bytes) -> bool:
    if _holds(path, data):
        return False

    def write(tmp: Path) -> None:
        tmp.write_bytes(data)
    return write_atomic(path, write)


# -- a set of files, committed together --------------------------------------------------------

@dataclass
class _Staged:
    path: Path
    tmp: Path | None
    """None: ``path`` already holds the content (nothing to replace)."""
    fd: int | None
    anchor: bool
    data: bytes | None = None


class Staging:
    """Outputs of one build, written to temporary files and committed together (see the module
    docstring): a build that fails or is interrupted halfway leaves every previous output as
    it was; one killed while committing is finished by the next ``recover``.
    """

    def __init__(self) -> None:
        self._staged: dict[Path, _Staged] = {}

    def _drop(self, path: Path) -> None:
        old = self._staged.pop(path, None)
        if old is not None:
            if old.tmp is not None:
                old.tmp.unlink(missing_ok=True)
            _close(old.fd)

    def stage(self, path: Path, write: Callable[[Path], None], *, anchor: bool = False) -> None:
        """Have ``write(tmp)`` produce the next content of ``path``. ``anchor``: the journal of
        a commit that replaces this file goes in its folder (the lock file's, so that reading
        the lock finishes an interrupted commit first)."""
        self._drop(path)
        tmp, fd = _new_temp(path, NOTHING_REPLACED)
        self._staged[path] = _Staged(path, tmp, fd, anchor)
        try:
            write(tmp)
        except OSError as exc:
            raise disk_error(path, exc, then=NOTHING_REPLACED) from exc
        if path.is_file() and _same(tmp, path):  # unchanged: nothing to replace
            tmp.unlink()
            _close(fd)
            self._staged[path] = _Staged(path, None, None, anchor)

    def stage_bytes(self, path: Path, data: bytes, *, anchor: bool = False) -> None:
        if _holds(path, data):  # unchanged: no temporary file (the folder may be read-only)
            self._drop(path)
            self._staged[path] = _Staged(path, None, None, anchor, data)
            return

        def write(tmp: Path) -> None:
            tmp.write_bytes(data)
        self.stage(path, write, anchor=anchor)
        if path in self._staged:
            self._staged[path].data = data

    def digest(self, path: Path) -> str | None:
        """SHA-256 of what ``path`` holds once committed (None if it was not staged)."""
        item = self._staged.get(path)
        if item is None:
            return None
        if item.data is not None:
            return hashlib.sha256(item.data).hexdigest()
        return sha256(item.tmp if item.tmp is not None else path)

    def commit(self) -> dict[Path, bool]:
        """Replace every staged file; True where the content changed."""
        items = list(self._staged.values())
        changed = {s.path: s.tmp is not None for s in items}
        pending = [s for s in items if s.tmp is not None]
        for s in pending:
            try:
                assert s.fd is not None
                os.fsync(s.fd)  # the content is on disk before any rename refers to it
            except OSError as exc:
                raise disk_error(s.path, exc, then=NOTHING_REPLACED) from exc
        journal = None
        journal_fd = None
        if len(pending) > 1:  # the commit point; before it, an error leaves the old files
            home = next((s.path.parent for s in pending if s.anchor), pending[0].path.parent)
            journal, journal_fd = _write_journal(home, [(s.tmp, s.path) for s in pending
                                                        if s.tmp is not None])
        try:
            for s in pending:
                assert s.tmp is not None
                try:
                    os.replace(s.tmp, s.path)
                except OSError as exc:
                    then = ("the next build finishes replacing the outputs" if journal else
                            NOTHING_REPLACED)
                    raise disk_error(s.path, exc, "cannot replace", then) from exc
            _fsync_dirs(s.path.parent for s in pending)
            if journal is not None:
                journal.unlink(missing_ok=True)
                _fsync_dirs([journal.parent])
        except BaseException:
            if journal is not None:  # interrupted (Ctrl-C): finish now if possible, else
                try:                 # the journal stays for the next recover()
                    _roll_forward(journal, locked=True)
                except (OSError, ValueError):
                    pass
            else:
                for s in pending:
                    if s.tmp is not None:
                        s.tmp.unlink(missing_ok=True)
            raise
        finally:
            for s in items:
                _close(s.fd)
            _close(journal_fd)
            self._staged = {}
        return changed

    def abort(self) -> None:
        """Delete the temporary files of a staging that was not committed."""
        for s in self._staged.values():
            if s.tmp is not None:
                try:
                    s.tmp.unlink(missing_ok=True)
                except OSError:
                    pass
            _close(s.fd)
        self._staged = {}


def _signature(path: Path) -> list[int] | None:
    """What tells a file apart from a later version of it: inode, size, mtime."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns]


def _write_journal(home: Path, renames: list[tuple[Path, Path]]) -> tuple[Path, int]:
    """Write the commit's journal atomically (the commit point); returns it and its locked
    descriptor (held until the commit is done, so no other process rolls it forward)."""
    journal = home / f"{JOURNAL_PREFIX}{os.urandom(8).hex()}.json"
    entries = [{"tmp": os.path.abspath(tmp), "target": os.path.abspath(target),
                "old": _signature(target)} for tmp, target in renames]
    data = json.dumps({"format": JOURNAL_FORMAT, "version": 1, "renames": entries,
                       "mac": _journal_mac(entries)}, indent=1).encode()
    tmp, fd = _new_temp(journal, NOTHING_REPLACED)
    renamed = False
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.fsync(fd)
        os.replace(tmp, journal)
        renamed = True
        _fsync_dirs([home])
    except BaseException as exc:
        try:  # not committed after all: the old files stay (the caller deletes the new ones)
            if renamed:
                journal.unlink(missing_ok=True)
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        _close(fd)
        if isinstance(exc, OSError):
            raise disk_error(journal, exc, then=NOTHING_REPLACED) from exc
        raise
    return journal, fd


def _journal_mac(entries: list) -> str:
    """The MAC of a journal's renames, under this user's key (deckgen.trustcache): a journal
    that came with a bank has none that fits, so it moves nothing and is left where it is."""
    from deckgen import trustcache  # (trustcache writes through this module)

    return trustcache.mac("journal", json.dumps(entries, sort_keys=True))


def _journal_entries(data: Any) -> list[tuple[Path, Path, list[int] | None]] | None:
    """A journal's renames, or None if it is not one this user's deckgen wrote (its MAC).
    Each temporary file must be one of deckgen's, beside its target."""
    from deckgen import trustcache

    if not isinstance(data, dict) or data.get("format") != JOURNAL_FORMAT or \
            data.get("version") != 1 or not isinstance(data.get("renames"), list):
        return None
    if not trustcache.valid_mac(data.get("mac"), "journal",
                                json.dumps(data["renames"], sort_keys=True)):
        return None
    out = []
    for e in data["renames"]:
        if not isinstance(e, dict) or not isinstance(e.get("tmp"), str) or \
                not isinstance(e.get("target"), str):
            return None
        old = e.get("old")
        if old is not None and not (isinstance(old, list) and len(old) == 3 and
                                    all(type(x) is int for x in old)):
            return None
        tmp, target = Path(e["tmp"]), Path(e["target"])
        if not tmp.is_absolute() or tmp.parent != target.parent or \
                not tmp.name.startswith(f".{target.name}.") or not TEMP.fullmatch(tmp.name):
            return None
        out.append((tmp, target, old))
    return out


def _roll_forward(journal: Path, locked: bool = False) -> None:
    """Finish the renames a journal lists, then delete it (it is then done)."""
    fd = None
    if not locked:
        try:
            fd = os.open(journal, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:  # gone, or a symlink: not a journal deckgen wrote
            return
        if not _lock(fd):  # its process is alive and committing: it finishes by itself
            os.close(fd)
            return
    try:
        try:
            with open(journal, "rb") as fh:
                raw = fh.read(MAX_JOURNAL_BYTES + 1)
            entries = _journal_entries(json.loads(raw)) if len(raw) <= MAX_JOURNAL_BYTES \
                else None
        except FileNotFoundError:
            return  # done by another process meanwhile
        except (ValueError, RecursionError):  # not one deckgen wrote: nothing to finish
            entries = None
        if entries is None:
            return  # not this user's deckgen's: left alone, as any file of the bank
        dirs = []
        for tmp, target, old in entries or []:
            try:
                if not tmp.is_file() or tmp.is_symlink():
                    continue  # renamed already
                if _signature(target) != old:
                    tmp.unlink()  # changed by someone since: their version stays
                    continue
                os.replace(tmp, target)
                dirs.append(target.parent)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise disk_error(target, exc, "cannot finish the interrupted commit of",
                                 f"the journal {shown(journal)} keeps it for the next try"
                                 ) from exc
        _fsync_dirs(dirs)
        try:
            journal.unlink(missing_ok=True)
        except OSError:  # done: left over, it finds nothing to do next time either
            return
        _fsync_dirs([journal.parent])
    finally:
        _close(fd)


def _dead(path: Path) -> bool:
    """Whether a temporary file's writer is gone (its lock is free)."""
    if fcntl is None:  # pragma: no cover
        try:
            return time.time() - path.stat().st_mtime > STALE_SECONDS
        except OSError:
            return False
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        if not _lock(fd):
            return False
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except OSError:
        return False
    finally:
        os.close(fd)  # the file is deleted right after; a writer creating it anew relocks


def sweep(directory: Path, recursive: bool = False) -> int:
    """Delete the temporary files that dead processes left in ``directory`` (and below it,
    with those of older deckgen versions, if ``recursive``); how many."""
    names = ANY_TEMP if recursive else TEMP
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0
    for entry in entries:
        try:
            if entry.is_file(follow_symlinks=False) and names.fullmatch(entry.name):
                path = Path(entry.path)
                if _dead(path):
                    path.unlink()
                    removed += 1
            elif recursive and entry.is_dir(follow_symlinks=False):
                removed += sweep(Path(entry.path), recursive=True)
        except OSError:  # a read-only folder keeps its leftovers; they harm nobody
            continue
    return removed


def recover(*directories: Path, deep: Iterable[Path] = ()) -> None:
    """Finish the commits that killed processes left in these folders (their journals), then
    delete the temporary files they left there (and anywhere below the ``deep`` folders, which
    deckgen owns: the cache).

    Cheap when there is nothing to do: one listing per folder. Raises DiskError if an
    interrupted commit cannot be finished (it is then tried again next time).
    """
    listed: list[tuple[Path, list[str]]] = []
    for directory in dict.fromkeys(directories):
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        listed.append((directory, names))
        for name in sorted(n for n in names if JOURNAL.fullmatch(n)):
            _roll_forward(directory / name)
    for directory, names in listed:
        if any(TEMP.fullmatch(n) for n in names):
            sweep(directory)
    for directory in deep:
        sweep(directory, recursive=True)
