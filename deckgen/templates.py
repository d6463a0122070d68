"""Template files on a search path: the bank's override directory first, then the defaults."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from deckgen.errors import ConfigError


def load(name: str, override: Path | None = None) -> str:
    """Text of template ``name`` (e.g. ``anki/front.html``)."""
    if override is not None:
        candidate = override / name
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    try:
        return resources.files("deckgen.renderers").joinpath(name).read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError) as exc:
        raise ConfigError(f"template '{name}' not found") from exc
