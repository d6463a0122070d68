"""Cache entries this user's deckgen wrote, told apart from anything that came with a bank.

A bank may come from a stranger, and its folder may ship a ``build/cache/`` (the default cache
location is inside the bank's build folder). A cache entry is therefore a hit only if it
carries a valid MAC: HMAC-SHA256 under a secret key that lives outside every bank, in
``$DECKGEN_CACHE_KEY_FILE``, else ``$XDG_CONFIG_HOME/deckgen/cache-key``, else
``~/.config/deckgen/cache-key`` (32 random bytes as hex, created with mode 0600 on first
use). Nobody without that file can write an entry this user's deckgen accepts, so a shipped
cache is simply a cache miss: recomputed, or under ``--no-exec`` reported as not computed.
If the key file can neither be read nor created (a read-only home), a key for this process
only is used: builds work, the cache is just not reused by the next process.

Besides the MAC, every reader here treats the files as hostile data: only regular files are
read (never through a symlink as the last component, never a FIFO or device), at most
``limit`` bytes, and JSON that is too deep is a miss, not a crash. Writers refuse to write
through a symlinked directory below the cache root, so a shipped ``cache/pdf -> /elsewhere``
cannot redirect a write outside the cache.

The key is read once per process and only when a cache entry is first read or written, so a
no-op rebuild (which reads no cache at all) never touches it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
import threading
from pathlib import Path
from typing import Any

from deckgen.atomic import write_bytes_atomic

KEY_ENV = "DECKGEN_CACHE_KEY_FILE"
_KEY_BYTES = 32
MAC_LENGTH = 64
"""Length of a MAC as stored (hex of HMAC-SHA256)."""


def key_file() -> Path:
    """Where this user's cache key is kept (outside any bank)."""
    explicit = os.environ.get(KEY_ENV)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME", "")
    # the XDG spec: a relative XDG_CONFIG_HOME is invalid and must be ignored
    config = Path(base) if base and os.path.isabs(base) else Path.home() / ".config"
    return config / "deckgen" / "cache-key"


def _parse_key(data: bytes) -> bytes | None:
    text = data.strip()
    if len(text) != 2 * _KEY_BYTES:
        return None
    try:
        return bytes.fromhex(text.decode("ascii"))
    except ValueError:  # UnicodeDecodeError included
        return None


def _read_key(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return _parse_key(fh.read(4 * _KEY_BYTES + 2))
    except OSError:
        return None


def _create_key(path: Path) -> bytes | None:
    """A new key stored at ``path`` (mode 0600), or the one another process stored first.

    The key is written to a temporary file and linked into place, so a concurrent reader
    never sees a half-written key; a damaged key file (not 64 hex digits) is replaced."""
    key = secrets.token_bytes(_KEY_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(key.hex().encode() + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            existing = _read_key(path)
            if existing is not None:
                return existing  # another process was first
            os.replace(tmp, path)  # a damaged key file: this one replaces it
        except OSError:  # a file system without hard links
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return key


def _secret_at(path: str) -> bytes:
    key = _read_key(Path(path))
    if key is not None:
        return key
    try:
        created = _create_key(Path(path))
    except OSError:
        created = None
    # unusable key file: a key of this process only (nothing is reused across processes)
    return created if created is not None else secrets.token_bytes(_KEY_BYTES)


_KEY_LOCK = threading.Lock()  # PDF chunks are read and written from several threads
_BY_PATH: dict[str, bytes] = {}
_BY_ENV: dict[tuple[str | None, ...], bytes] = {}


def secret() -> bytes:
    """This user's cache key (read or created on first use, then kept for the process)."""
    env = (os.environ.get(KEY_ENV), os.environ.get("XDG_CONFIG_HOME"), os.environ.get("HOME"))
    key = _BY_ENV.get(env)
    if key is None:
        with _KEY_LOCK:
            path = str(key_file())
            if path not in _BY_PATH:
                _BY_PATH[path] = _secret_at(path)
            key = _BY_ENV[env] = _BY_PATH[path]
    return key


def forget() -> None:
    """Forget the keys read so far (the next use reads the key file again, as a new process
    would)."""
    with _KEY_LOCK:
        _BY_PATH.clear()
        _BY_ENV.clear()


def mac(*fields: str | bytes) -> str:
    """HMAC-SHA256 (hex) of ``fields`` under this user's key.

    Each field is length-prefixed, so no two different field lists give the same MAC input.
    The first field should name what is sealed (e.g. ``"cells/1"``), so an entry of one kind
    can never pass for another."""
    h = hmac.new(secret(), digestmod=hashlib.sha256)
    for f in fields:
        data = f.encode("utf-8", "surrogatepass") if isinstance(f, str) else f
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def valid_mac(stored: object, *fields: str | bytes) -> bool:
    """Whether ``stored`` (as read from a file: anything) is the MAC of ``fields``."""
    return isinstance(stored, str) and len(stored) == MAC_LENGTH and \
        hmac.compare_digest(stored.encode("ascii", "replace"), mac(*fields).encode())


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def read_bytes(path: Path, limit: int) -> bytes | None:
    """The bytes of ``path`` if it is a regular file (not a symlink) of at most ``limit``
    bytes; None otherwise or on any error (a FIFO or device shipped in a bank never blocks)."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK)
    except (OSError, ValueError):
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        parts, want = [], info.st_size + 1
        while want > 0:
            part = os.read(fd, want)
            if not part:
                break
            parts.append(part)
            want -= len(part)
        data = b"".join(parts) if len(parts) != 1 else parts[0]
        return data if len(data) <= info.st_size else None  # else it grew meanwhile
    except OSError:
        return None
    finally:
        os.close(fd)


def read_json(path: Path, limit: int) -> Any:
    """The JSON value in ``path`` (see :func:`read_bytes`), or None if unreadable, too big,
    not JSON or nested too deeply. (A file holding ``null`` also gives None.)"""
    data = read_bytes(path, limit)
    if data is None:
        return None
    try:
        return json.loads(data)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None


def inside(root: Path, path: Path) -> bool:
    """Whether writing ``path`` stays in the cache ``root``: ``path`` is below ``root`` and
    neither ``root`` nor a folder between them is a symlink (a shipped ``cache/pdf`` linking
    elsewhere would otherwise take the write with it)."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        return False
    if ".." in rel.parts or not rel.parts:
        return False
    here = root
    for part in ("", *rel.parts[:-1]):
        here = here / part if part else here
        if here.is_symlink() or (here.exists() and not here.is_dir()):
            return False
    return True


def write(root: Path, path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically, if that stays inside the cache ``root`` (see
    :func:`inside`); a cache that cannot be written is only a cache that is not kept, so any
    OSError is swallowed. True if ``path`` now holds ``data`` (written, or already equal)."""
    if not inside(root, path):
        return False
    try:
        write_bytes_atomic(path, data)
    except OSError:
        return False
    return True
