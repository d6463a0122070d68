"""Bank settings from ``deckgen.toml`` beside the bank; command-line flags override them."""

from __future__ import annotations

import glob
import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from deckgen.errors import ConfigError, Location

CONFIG_NAME = "deckgen.toml"
FORMATS = ("apkg", "json", "pdf")
DEFAULT_BANK = Path("source")


@dataclass(frozen=True)
class Config:
    """Resolved settings for one build."""

    root: Path
    """The bank directory (figures may not leave it)."""
    sources: tuple[Path, ...]
    """Question files."""
    answers: tuple[Path, ...]
    """Answers files."""
    name: str = "Deep Learning Interviews"
    """Deck name (the parent deck of one subdeck per section)."""
    out: Path = Path("build")
    formats: tuple[str, ...] = FORMATS
    templates: Path | None = None
    """Directory with template overrides (same layout as ``renderers/``)."""
    timeout: float = 60.0
    """Default seconds a cell may run."""
    jobs: int = field(default_factory=lambda: default_jobs())
    """Worker processes for cells (default: 2, or 1 on a one-core machine)."""
    memory_mb: int = 4096
    """Address-space cap of a worker, in MiB."""
    config_file: Path | None = None
    print_options: dict = field(default_factory=dict)
    """The [print] table: layout, paper, card, back_offset, section, questions."""

    @property
    def cache_dir(self) -> Path:
        return self.out / "cache"

    @property
    def slug(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.name.lower()).strip("-") or "deck"


def default_jobs() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def _list(value, key: str, path: Path) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise ConfigError(f"'{key}' must be a string or a list of strings", Location(str(path), 1),
                      "config")


def load(target: Path | None = None) -> Config:
    """Settings for a bank directory or question file (default: ``./source``)."""
    target = target or DEFAULT_BANK
    if not target.exists():
        raise ConfigError(f"no question bank at '{target}' (give a directory or a .md file)",
                          None, "no-bank")
    root = target if target.is_dir() else target.parent
    data: dict = {}
    cfg_path = root / CONFIG_NAME
    if cfg_path.is_file():
        try:
            data = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"invalid TOML: {exc}", Location(str(cfg_path), 1), "config") from exc
        data = data.get("deckgen", data)
    known = {"name", "sources", "answers", "out", "formats", "templates", "timeout", "jobs",
             "memory_mb", "print"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}", Location(str(cfg_path), 1),
                          "config")

    def paths(key: str, default: list[str]) -> tuple[Path, ...]:
        found: list[Path] = []
        for pattern in _list(data.get(key, default), key, cfg_path):
            matches = sorted(glob.glob(str(root / pattern), recursive=True))
            if not matches and not any(c in pattern for c in "*?["):
                raise ConfigError(f"{key}: '{pattern}' not found in {root}",
                                  Location(str(cfg_path), 1), "config")
            found.extend(Path(m) for m in matches)
        return tuple(dict.fromkeys(found))

    if target.is_file():
        sources: tuple[Path, ...] = (target,)
    else:
        sources = paths("sources", ["*.md"])
    answers = paths("answers", ["answers/*.md", "*.answers.md"])
    sources = tuple(s for s in sources if s not in answers and s.name.lower() != "readme.md")
    if not sources:
        raise ConfigError(f"no question files in {root}", None, "no-bank")
    out = Path(data["out"]) if "out" in data else Path("build")
    if "out" in data and not out.is_absolute():
        out = root / out
    formats = tuple(_list(data.get("formats", list(FORMATS)), "formats", cfg_path))
    templates = data.get("templates")
    cfg = Config(root=root, sources=sources, answers=answers,
                 name=str(data.get("name", Config.name)), out=out,
                 formats=formats,
                 templates=(root / templates) if templates else None,
                 timeout=float(data.get("timeout", 60)), jobs=int(data.get("jobs", default_jobs())),
                 memory_mb=int(data.get("memory_mb", 4096)),
                 config_file=cfg_path if cfg_path.is_file() else None,
                 print_options=dict(data.get("print", {})))
    check_formats(cfg.formats)
    return cfg


def check_formats(formats: tuple[str, ...]) -> None:
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ConfigError(f"unknown output format(s): {', '.join(bad)} (known: "
                          f"{', '.join(FORMATS)})", None, "config")


def override(cfg: Config, **flags) -> Config:
    """Apply command-line flags; ``None`` means 'not given' and never overrides the file."""
    given = {k: v for k, v in flags.items() if v is not None}
    if "formats" in given:
        check_formats(given["formats"])
    return replace(cfg, **given)
