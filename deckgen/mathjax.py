"""The MathJax Anki ships, for pages that show cards as Anki does (``deckgen serve``).

Anki's own build (version and configuration: ``mathjax.js`` and ``vendor/mathjax/``) comes
from the ``aqt`` wheel of Anki 26.9.3, which is on PyPI: fetched once with pip (about 4 MB,
the wheel only, none of its dependencies), unpacked into the user's cache, then served
from there, so the page needs no network. ``$DECKGEN_MATHJAX`` names a folder of the same
layout instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

AQT = "aqt==26.9.3"
_INSIDE = "_aqt/data/web/js/"


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "deckgen" / AQT.replace("==", "-")


def usable(js: Path) -> bool:
    return (js / "mathjax.js").is_file() and \
        (js / "vendor" / "mathjax" / "tex-chtml-full.js").is_file()


def find() -> Path | None:
    """Anki's web ``js/`` folder (with ``mathjax.js`` and ``vendor/mathjax``), if here."""
    given = os.environ.get("DECKGEN_MATHJAX")
    if given:
        return Path(given) if usable(Path(given)) else None
    js = cache_dir() / "js"
    return js if usable(js) else None


def fetch(into: Path | None = None) -> Path:
    """Download the aqt wheel with pip and unpack its MathJax into ``into`` (default: the
    cache); returns the ``js`` folder. Raises OSError or RuntimeError, saying why."""
    into = into or cache_dir()
    js = into / "js"
    if usable(js):
        return js
    into.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="deckgen-mathjax-", dir=into) as tmp:
        done = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                               "-d", tmp, AQT], capture_output=True, text=True)
        wheels = list(Path(tmp).glob("aqt-*.whl"))
        if done.returncode or not wheels:
            raise RuntimeError(f"pip could not download {AQT}: "
                               f"{(done.stderr or done.stdout).strip()[-300:]}")
        part = Path(tmp) / "unpacked"
        with zipfile.ZipFile(wheels[0]) as z:
            for name in z.namelist():
                if name == _INSIDE + "mathjax.js" or name.startswith(_INSIDE + "vendor/mathjax/"):
                    z.extract(name, part)
        shutil.rmtree(js, ignore_errors=True)
        (part / _INSIDE).rename(js)
    if not usable(js):
        raise RuntimeError(f"{AQT} holds no MathJax where deckgen looks ({_INSIDE})")
    return js
