"""Results of a question's cells, stored under build/cache and keyed by what can change them."""

from __future__ import annotations

import hashlib
import json
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from deckgen.atomic import write_bytes_atomic

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


def cache_key(setup: list[dict[str, Any]], units: list[dict[str, Any]]) -> str:
    """Hash of the code that runs (setup, cells, referenced question code) and the runtime.

    Question prose, cell locations and display-only options are left out, so rewording a
    question or moving an answer does not re-run anything.
    """
    def strip(u: dict[str, Any]) -> dict[str, Any]:
        return {"code": u["code"], "inline": u.get("inline", False),
                "pre": [p["code"] for p in u.get("pre", [])],
                "options": {k: v for k, v in sorted(u.get("options", {}).items())
                            if k not in DISPLAY_OPTIONS}}
    payload = {"format": CACHE_FORMAT, "python": list(sys.version_info[:2]),
               "packages": package_versions(), "setup": [strip(u) for u in setup],
               "units": [strip(u) for u in units]}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class Cache:
    def __init__(self, root: Path):
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str, units: int) -> list[dict[str, Any]] | None:
        """The stored results, or None if absent or unreadable (a corrupt entry is a miss)."""
        try:
            data = json.loads(self.path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("key") != key or \
                not isinstance(data.get("results"), list) or len(data["results"]) != units:
            return None
        return data["results"]

    def put(self, key: str, results: list[dict[str, Any]]) -> None:
        """Only successful results are ever stored."""
        text = json.dumps({"key": key, "results": results}, sort_keys=True)
        write_bytes_atomic(self.path(key), text.encode("utf-8"))

    def runs(self) -> dict[str, dict[str, Any]]:
        """The last run of each cache key: seconds taken and error (if it failed)."""
        try:
            data = json.loads((self.root / RUNS_NAME).read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def record_runs(self, runs: dict[str, dict[str, Any]]) -> None:
        if runs:
            merged = {**self.runs(), **runs}
            write_bytes_atomic(self.root / RUNS_NAME,
                               json.dumps(merged, sort_keys=True, indent=0).encode())


RUNS_NAME = "runs.json"
