"""Results of a question's cells, stored under build/cache and keyed by what can change them."""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from deckgen import trustcache

CACHE_FORMAT = 1
# Options that only change how a result is shown, never the result itself.
DISPLAY_OPTIONS = {"echo", "output", "fig-cap", "fig-alt", "label", "timeout"}
PACKAGES = ("numpy", "torch", "sympy", "matplotlib")


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    """Versions from package metadata (no import of the packages themselves)."""
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


_PROBE = ("import json, sys\nfrom importlib import metadata\nout = {}\n"
          "for name in sys.argv[1:]:\n"
          "    try:\n        out[name] = metadata.version(name)\n"
          "    except metadata.PackageNotFoundError:\n        out[name] = 'absent'\n"
          "print(json.dumps({'python': list(sys.version_info[:2]), 'packages': out}))")


def runtime(python: str | None = None) -> dict[str, Any]:
    """What a cell's results depend on besides its code: the Python that runs it (this one,
    or ``python`` from deckgen.toml) and the versions of the computing packages there."""
    if python is None:
        return {"python": list(sys.version_info[:2]), "packages": package_versions()}
    try:
        mtime = Path(python).stat().st_mtime_ns
    except OSError as exc:
        raise RuntimeError(f"cannot run {python}: {exc.strerror or exc}") from exc
    return _probe(python, mtime)


@lru_cache(maxsize=8)
def _probe(python: str, _mtime: int) -> dict[str, Any]:
    import subprocess

    try:
        done = subprocess.run([python, "-c", _PROBE, *PACKAGES], capture_output=True,
                              text=True, timeout=60)
        found = json.loads(done.stdout) if done.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
        raise RuntimeError(f"cannot run {python}: {exc}") from exc
    if not isinstance(found, dict) or not isinstance(found.get("python"), list) or \
            found["python"] < [3, 9]:
        raise RuntimeError(f"{python} is not a Python 3.9 or newer that deckgen can run cells "
                           f"with: {(done.stderr or done.stdout).strip()[-300:]}")
    return found


def cache_key(setup: list[dict[str, Any]], units: list[dict[str, Any]],
              runs_with: dict[str, Any] | None = None) -> str:
    """Hash of the code that runs (setup, cells, referenced question code) and the runtime
    (``runs_with``: see :func:`runtime`; default this Python).

    Question prose, cell locations and display-only options are left out, so rewording a
    question or moving an answer does not re-run anything.
    """
    def strip(u: dict[str, Any]) -> dict[str, Any]:
        return {"code": u["code"], "inline": u.get("inline", False),
                "pre": [p["code"] for p in u.get("pre", [])],
                "options": {k: v for k, v in sorted(u.get("options", {}).items())
                            if k not in DISPLAY_OPTIONS}}
    env = runs_with or runtime()
    payload = {"format": CACHE_FORMAT, "python": env["python"],
               "packages": env["packages"], "setup": [strip(u) for u in setup],
               "units": [strip(u) for u in units]}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


# Bounds on what a cache file may hold before it is even parsed: beyond them it is a miss.
MAX_ENTRY_BYTES = 256 * 1024 * 1024  # cells' printed output is capped, figures are not
MAX_RUNS_BYTES = 16 * 1024 * 1024
_KEY = re.compile(r"[0-9a-f]{64}")
_RESULT_KEYS = frozenset({"outputs", "value"})
_OUTPUT_KEYS = frozenset({"type", "data"})


def valid_results(results: object, units: int) -> bool:
    """Whether ``results`` has the shape the worker gives: one dict per unit, with an
    optional ``value`` (text) and optional ``outputs`` (``{"type": str, "data": {mime:
    str}}`` each), nothing else."""
    if not isinstance(results, list) or len(results) != units:
        return False
    for r in results:
        if not isinstance(r, dict) or not r.keys() <= _RESULT_KEYS:
            return False
        if "value" in r and not isinstance(r["value"], str):
            return False
        outputs = r.get("outputs", [])
        if not isinstance(outputs, list):
            return False
        for o in outputs:
            if not isinstance(o, dict) or o.keys() != _OUTPUT_KEYS or \
                    not isinstance(o["type"], str) or not isinstance(o["data"], dict) or \
                    not all(isinstance(k, str) and isinstance(v, str)
                            for k, v in o["data"].items()):
                return False
    return True


# An entry is one JSON object written in exactly this layout, so that its MAC can cover the
# results' bytes as they are stored: {"key": "<key>", "mac": "<hex>", "results": [...]}
_HEAD = '{{"key": "{key}", "mac": "'
_MIDDLE = b'", "results": '


def _fields(key: str, body: bytes) -> tuple[str | bytes, ...]:
    """What an entry's MAC covers: the cache key and the results as stored."""
    return f"cells/{CACHE_FORMAT}", key, body


def _run_fields(key: str, run: dict[str, Any]) -> tuple[str, ...]:
    return f"runs/{CACHE_FORMAT}", key, json.dumps(run, sort_keys=True)


def _valid_run(key: object, run: object) -> bool:
    if not isinstance(key, str) or not _KEY.fullmatch(key) or not isinstance(run, dict) or \
            run.keys() != {"question", "seconds", "error", "mac"}:
        return False
    q, s, e = run["question"], run["seconds"], run["error"]
    return isinstance(q, int) and not isinstance(q, bool) and \
        isinstance(s, (int, float)) and not isinstance(s, bool) and math.isfinite(s) and \
        s >= 0 and (e is None or isinstance(e, str))


class Cache:
    """Cell results, one file per cache key: ``<root>/<2 hex>/<key>.json``.

    An entry is a hit only if it has the expected shape and a MAC under this user's key
    (``deckgen.trustcache``): entries shipped with a bank, or damaged, are misses."""

    def __init__(self, root: Path):
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str, units: int) -> list[dict[str, Any]] | None:
        """The stored results, or None if absent, unreadable, of the wrong shape or not
        written by this user's deckgen (each of those is a miss)."""
        if not _KEY.fullmatch(key):
            return None
        data = trustcache.read_bytes(self.path(key), MAX_ENTRY_BYTES)
        head = _HEAD.format(key=key).encode()
        if data is None or not data.startswith(head) or not data.endswith(b"}"):
            return None
        mac, rest = data[len(head):len(head) + trustcache.MAC_LENGTH], \
            data[len(head) + trustcache.MAC_LENGTH:-1]
        if not rest.startswith(_MIDDLE):
            return None
        body = rest[len(_MIDDLE):]
        # the MAC covers the results' bytes as written: checked before they are even parsed
        if not trustcache.valid_mac(mac.decode("ascii", "replace"), *_fields(key, body)):
            return None
        try:
            results = json.loads(body)
        except (ValueError, RecursionError):
            return None
        return results if valid_results(results, units) else None

    def put(self, key: str, results: list[dict[str, Any]]) -> None:
        """Only successful results are ever stored."""
        if not _KEY.fullmatch(key):
            return
        body = json.dumps(results, sort_keys=True).encode()  # ASCII (ensure_ascii)
        mac = trustcache.mac(*_fields(key, body))
        data = _HEAD.format(key=key).encode() + mac.encode() + _MIDDLE + body + b"}"
        trustcache.write(self.root, self.path(key), data)

    def runs(self) -> dict[str, dict[str, Any]]:
        """The last run of each cache key: seconds taken and error (if it failed); only the
        runs this user's deckgen recorded, each of the expected shape."""
        data = trustcache.read_json(self.root / RUNS_NAME, MAX_RUNS_BYTES)
        if not isinstance(data, dict):
            return {}
        out = {}
        for key, run in data.items():
            if _valid_run(key, run):
                fields = {k: v for k, v in run.items() if k != "mac"}
                if trustcache.valid_mac(run["mac"], *_run_fields(key, fields)):
                    out[key] = fields
        return out

    def record_runs(self, runs: dict[str, dict[str, Any]]) -> None:
        if runs:
            merged = {**self.runs(), **runs}
            sealed = {k: {**v, "mac": trustcache.mac(*_run_fields(k, v))}
                      for k, v in merged.items()}
            trustcache.write(self.root, self.root / RUNS_NAME,
                             json.dumps(sealed, sort_keys=True, indent=0).encode())


RUNS_NAME = "runs.json"
