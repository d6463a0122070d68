"""Bank settings from ``deckgen.toml`` beside the bank; command-line flags override them."""

from __future__ import annotations

import glob
import html
import os
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field, replace
from fnmatch import fnmatch
from pathlib import Path

from deckgen.errors import ConfigError, Location
from deckgen.render import DEFAULT_FORMATS, FORMATS, SETTINGS_TABLES

CONFIG_NAME = "deckgen.toml"
STYLES = ("auto", "numbered", "heading", "bold", "labelled")
"""How a question file writes its questions (``style`` in deckgen.toml); ``auto`` detects it."""
DEFAULT_BANK = Path("source")
OUT_NAME = "build"
"""Outputs go to this directory beside the bank unless ``out`` or ``--out`` says otherwise."""
SKIPPED_NAMES = frozenset({"readme.md", "changelog.md", "contributing.md", "license.md"})
"""Files a folder scan never takes for question or answers files (named explicitly, they are)."""


MAX_GLOB = 20_000
"""Paths one pattern of ``sources`` or ``answers`` may match."""

@dataclass(frozen=True)
class Config:
    """Resolved settings for one build."""

    root: Path
    """The bank directory (figures may not leave it)."""
    sources: tuple[Path, ...]
    """Question files."""
    answers: tuple[Path, ...]
    """Answers files."""
    name: str
    """Deck name (the parent deck of one subdeck per section): ``name`` in deckgen.toml, else
    the first ``#`` heading of the first question file, else the file's or folder's name."""
    out: Path
    """Output directory: ``build/`` beside the bank unless ``out`` or ``--out`` says otherwise."""
    formats: tuple[str, ...] = DEFAULT_FORMATS
    templates: Path | None = None
    """Directory with template overrides (same layout as ``renderers/``)."""
    timeout: float = 60.0
    """Default seconds a cell may run."""
    jobs: int = field(default_factory=lambda: default_jobs())
    """Worker processes for cells (default: 2, or 1 on a one-core machine)."""
    memory_mb: int = 4096
    """Address-space cap of a worker, in MiB."""
    config_file: Path | None = None
    settings: dict[str, dict] = field(default_factory=dict)
    """The output formats' tables (``[print]``, ``[csv]``: deckgen.render.SETTINGS_TABLES)
    by table name, as written; each is checked by its renderer (``deckgen check`` too)."""
    styles: tuple[tuple[str, str], ...] = ()
    """``style`` in deckgen.toml as (file pattern, style) pairs; the first match wins."""
    subdeck_numbers: bool = False
    """``subdeck_numbers = true``: each section's subdeck name starts with its position in the
    bank, zero-padded ("01 Perceptron"), so Anki (which lists decks alphabetically) shows and
    teaches them in the bank's order. Off by default: turning it on renames the subdecks, and
    Anki keeps cards already imported in their old decks."""
    description: str | None = None
    """The parent deck's description in Anki (plain text); None: a summary of the build."""
    python: str | None = None
    """The Python that runs the cells (``python`` in deckgen.toml: your own environment,
    with its packages); None: the one deckgen runs in."""

    @property
    def cache_dir(self) -> Path:
        return self.out / "cache"

    @property
    def slug(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.name.lower()).strip("-") or "deck"

    def style_for(self, path: Path) -> str | None:
        """The question style set for this file, or None to detect it (unset or ``auto``).

        Patterns match the path relative to the bank directory or the bare file name.
        """
        names = [path.name]
        relative = _relative(path, self.root)
        if relative is not None:
            names.insert(0, relative)
        for pattern, style in self.styles:
            if any(fnmatch(n, pattern) for n in names):
                return None if style == "auto" else style
        return None

    @property
    def print_options(self) -> dict:
        """The [print] table: layout, paper, card, back_offset, section, questions..."""
        return self.settings.get("print", {})

    def with_settings(self, table: str, values: dict) -> Config:
        return replace(self, settings={**self.settings, table: values})


def _relative(path: Path, root: Path) -> str | None:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        pass
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def default_jobs() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def _list(value, key: str, path: Path) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise ConfigError(f"'{key}' must be a string or a list of strings", Location(str(path), 1),
                      "config")


def _line_of(text: str, *needles: str) -> int:
    """The first line of deckgen.toml holding every needle, comments aside (else 1)."""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.lstrip().startswith("#") and all(n in line for n in needles):
            return number
    return 1


def is_skipped(path: Path) -> bool:
    """README.md, CHANGELOG.md, CONTRIBUTING.md, LICENSE.md (any case): never scanned."""
    return path.name.lower() in SKIPPED_NAMES


def default_bank() -> Path:
    """The bank when no SOURCE is given: ``./source`` if it exists, else the current directory
    when it holds a deckgen.toml or a question file."""
    if DEFAULT_BANK.exists():
        return DEFAULT_BANK
    here = Path(".")
    if (here / CONFIG_NAME).is_file() or \
            any(p.is_file() and not is_skipped(p) for p in here.glob("*.md")):
        return here
    raise ConfigError(
        f"no question bank here: there is no ./{DEFAULT_BANK} directory, and {Path.cwd()} has "
        f"no {CONFIG_NAME} and no .md question files (README.md, CHANGELOG.md, CONTRIBUTING.md "
        "and LICENSE.md do not count); give a bank directory or a .md file", None, "no-bank")


def load(target: Path | None = None) -> Config:
    """Settings for a bank directory or question file (default: see :func:`default_bank`)."""
    target = default_bank() if target is None else target
    if not target.exists():
        raise ConfigError(f"no question bank at '{target}' (give a directory or a .md file)",
                          None, "no-bank")
    single = target.is_file()
    root = target.parent if single else target
    data: dict = {}
    text = ""
    cfg_path = root / CONFIG_NAME
    if cfg_path.is_file():
        try:
            text = cfg_path.read_text(encoding="utf-8")
            data = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"invalid TOML: {exc}", Location(str(cfg_path), 1), "config") from exc
        except RecursionError as exc:
            raise ConfigError("invalid TOML: nested too deeply", Location(str(cfg_path), 1),
                              "config") from exc
        data = data.get("deckgen", data)
    known = {"name", "sources", "answers", "out", "formats", "templates", "timeout", "jobs",
             "memory_mb", "style", "subdeck_numbers", "description", "python",
             *SETTINGS_TABLES}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}", Location(str(cfg_path), 1),
                          "config")

    def paths(key: str, default: list[str]) -> tuple[Path, ...]:
        found: list[Path] = []
        for pattern in _list(data.get(key, default), key, cfg_path):
            is_glob = any(c in pattern for c in "*?[")
            listed = []
            for m in glob.iglob(pattern, root_dir=root, recursive=True):
                listed.append(m)
                if len(listed) > MAX_GLOB:  # '**' through a link to a folder above it
                    raise ConfigError(f"{key}: '{pattern}' matches more than {MAX_GLOB:,} paths "
                                      f"in {root} (a symbolic link to a folder it is in?)",
                                      Location(str(cfg_path), _line_of(text, pattern)),
                                      "config")
            matches = [root / m for m in sorted(listed)]
            matches = [m for m in matches if m.is_file() and not (is_glob and is_skipped(m))]
            if not matches and not is_glob:
                raise ConfigError(f"{key}: '{pattern}' not found in {root}",
                                  Location(str(cfg_path), _line_of(text, pattern)), "config")
            found.extend(matches)
        return tuple(dict.fromkeys(found))

    answers = paths("answers", ["answers/*.md", "*.answers.md"])
    if single:
        sources: tuple[Path, ...] = (target,)  # named explicitly: read it, whatever its name
        answers = tuple(a for a in answers if a.resolve() != target.resolve())
    else:
        taken = {a.resolve() for a in answers}
        sources = tuple(s for s in paths("sources", ["*.md"]) if s.resolve() not in taken)
    if not sources:
        raise ConfigError(f"no question files in {root} (looked for "
                          f"{', '.join(_list(data.get('sources', '*.md'), 'sources', cfg_path))}"
                          "; README.md, CHANGELOG.md, CONTRIBUTING.md, LICENSE.md and answers "
                          "files are skipped)", None, "no-bank")
    if "name" in data:
        name = data["name"]
        if not isinstance(name, str) or not name.strip():
            raise ConfigError("'name' must be a non-empty string",
                              Location(str(cfg_path), _line_of(text, "name")), "config")
        name = name.strip()
    else:
        name = first_heading(sources[0]) or readable(
            target.stem if single else root.resolve().name)
    if "out" in data:
        if not isinstance(data["out"], str):
            raise ConfigError("'out' must be a string (a directory, relative to the bank)",
                              Location(str(cfg_path), _line_of(text, "out")), "config")
        out = Path(data["out"])
        out = out if out.is_absolute() else Path(os.path.normpath(root / out))
    else:
        out = root / OUT_NAME
    formats = tuple(_list(data.get("formats", list(DEFAULT_FORMATS)), "formats", cfg_path))
    subdeck_numbers = data.get("subdeck_numbers", False)
    if not isinstance(subdeck_numbers, bool):
        raise ConfigError("'subdeck_numbers' must be true or false",
                          Location(str(cfg_path), _line_of(text, "subdeck_numbers")), "config")
    description = data.get("description")
    if description is not None and (not isinstance(description, str) or not description.strip()):
        raise ConfigError("'description' must be a non-empty string",
                          Location(str(cfg_path), _line_of(text, "description")), "config")
    templates = data.get("templates")
    if templates is not None and (not isinstance(templates, str) or not templates.strip()):
        raise ConfigError("'templates' must be a directory name (a string)",
                          Location(str(cfg_path), _line_of(text, "templates")), "config")

    python = _python(data["python"], root, Location(str(cfg_path), _line_of(text, "python"))) \
        if "python" in data else None

    def number(key: str, default, kinds: tuple, low: float, high: float, what: str):
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, kinds) or \
                not (low <= value <= high):  # also false for nan
            raise ConfigError(f"'{key}' must be {what}",
                              Location(str(cfg_path), _line_of(text, key)), "config")
        return value

    timeout = float(number("timeout", 60, (int, float), 1e-3, 86400,
                           "a number of seconds from 0.001 to 86400"))
    jobs = number("jobs", default_jobs(), (int,), 1, 64, "a whole number from 1 to 64")
    memory_mb = number("memory_mb", 4096, (int,), 256, 1 << 20,
                       "a whole number of MiB from 256 to 1048576")
    for table in SETTINGS_TABLES:
        if table in data and not isinstance(data[table], dict):
            raise ConfigError(f"[{table}] must be a table of settings",
                              Location(str(cfg_path), _line_of(text, table)), "config")
    cfg = Config(root=root, sources=sources, answers=answers, name=name, out=out,
                 formats=formats,
                 templates=(root / templates) if templates else None,
                 timeout=timeout, jobs=jobs, memory_mb=memory_mb,
                 config_file=cfg_path if cfg_path.is_file() else None,
                 settings={t: dict(data[t]) for t in SETTINGS_TABLES if t in data},
                 styles=_styles(data["style"], cfg_path, text) if "style" in data else (),
                 subdeck_numbers=subdeck_numbers,
                 description=description.strip() if description is not None else None,
                 python=python)
    check_formats(cfg.formats)
    return cfg


def _styles(value, cfg_path: Path, text: str) -> tuple[tuple[str, str], ...]:
    """``style = "bold"`` or ``[style]`` with ``"pattern" = "style"`` -> (pattern, style) pairs."""
    def checked(style, pattern: str | None) -> str:
        if isinstance(style, str) and style in STYLES:
            return style
        where = f" for '{pattern}'" if pattern is not None else ""
        needles = (pattern,) if pattern is not None else ("style",)
        line = _line_of(text, *needles, style if isinstance(style, str) else str(style))
        raise ConfigError(f"style{where}: {style!r} is not a question style (valid: "
                          f"{', '.join(STYLES)})", Location(str(cfg_path), line), "config")

    if isinstance(value, str):
        return (("*", checked(value, None)),)
    if isinstance(value, dict):
        pairs = []
        for pattern, style in value.items():
            if not pattern.strip():
                raise ConfigError("style: a file pattern may not be empty",
                                  Location(str(cfg_path), _line_of(text, '""')), "config")
            pairs.append((pattern.strip().removeprefix("./"), checked(style, pattern)))
        return tuple(pairs)
    raise ConfigError(f"'style' must be one of {', '.join(STYLES)} or a table of file patterns "
                      'to styles, e.g. [style] "faq/*.md" = "bold"',
                      Location(str(cfg_path), _line_of(text, "style")), "config")


# -- the deck name when deckgen.toml gives none -------------------------------------------------

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
_SETEXT_H1 = re.compile(r"^ {0,3}=+[ \t]*$")
_NOT_PARAGRAPH = re.compile(r"^(?: {4}|\t| {0,3}(?:[-+*>|<]|\d{1,9}[.)])(?:\s|$))")
_IMAGE = re.compile(r"!\[[^\]]*\](?:\([^)]*\)|\[[^\]]*\])?")
_LINK = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])")
_EMPHASIS = re.compile(r"(?<![\w*~])(\*\*\*|\*\*|\*|___|__|_|~~)(?!\s)(.+?)(?<!\s)\1(?![\w*~])")
_SHORTCODE = re.compile(r"^(?::[a-z0-9_+-]+:\s*)+")


def first_heading(path: Path) -> str | None:
    """The first ``#`` heading of a Markdown file as plain text (None if it has none).

    Headings inside code blocks and front matter do not count; one that is empty once its
    Markdown, images and leading emoji are removed is skipped.
    """
    try:
        lines = path.read_text(encoding="utf-8-sig", errors="replace").splitlines()
    except OSError:
        return None
    fence = ""
    previous = ""
    start = 0
    if lines and lines[0].strip() == "---":  # YAML front matter
        end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() in ("---", "...")),
                   None)
        start = end + 1 if end is not None else 0
    for line in lines[start:]:
        opening = _FENCE.match(line)
        if fence:
            if opening and opening.group(1)[0] == fence[0] and \
                    len(opening.group(1)) >= len(fence) and not line.strip(" `~"):
                fence = ""
            previous = ""
            continue
        if opening:
            fence = opening.group(1)
            previous = ""
            continue
        atx = _ATX.match(line)
        heading = None
        if atx and len(atx.group(1)) == 1:
            heading = re.sub(r"(?:^|[ \t]+)#+$", "", atx.group(2) or "")
        elif _SETEXT_H1.match(line) and previous.strip() and not _NOT_PARAGRAPH.match(previous) \
                and not _ATX.match(previous):
            heading = previous
        if heading is not None:
            text = plain(heading)
            if text:
                return text
        previous = line
    return None


def plain(markdown: str) -> str:
    """A heading's text without Markdown emphasis, links, images, HTML or leading emoji."""
    text = _IMAGE.sub("", markdown)
    text = _LINK.sub(r"\1", text)
    text = re.sub(r"<[^>]*>", "", text)
    text = re.sub(r"`+([^`]*)`+", r"\1", text)
    while True:
        stripped = _EMPHASIS.sub(r"\2", text)
        if stripped == text:
            break
        text = stripped
    text = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)
    text = " ".join(html.unescape(text).split())
    return _drop_emoji_prefix(text)


def _drop_emoji_prefix(text: str) -> str:
    text = _SHORTCODE.sub("", text)
    i = 0
    while i < len(text) and (text[i].isspace() or
                             unicodedata.category(text[i]) in ("So", "Sk", "Mn", "Me", "Cf")):
        i += 1
    return text[i:].lstrip(" -–—:|·•") if i else text


def readable(stem: str) -> str:
    """A file or folder name as a deck name: ``deep-learning_qs`` -> ``Deep learning qs``."""
    words = " ".join(re.sub(r"[-_]+", " ", stem).split())
    return words[:1].upper() + words[1:] if words else "Deck"


def _python(value: object, root: Path, where: Location) -> str:
    """``python`` in deckgen.toml: a path (``~`` allowed; relative to the bank folder) or a
    command name found on PATH, e.g. ``"~/venvs/ds/bin/python"`` or ``"python3.12"``."""
    import shutil

    if not isinstance(value, str) or not value.strip():
        raise ConfigError("'python' must be the path of a Python interpreter (a string)", where,
                          "config")
    given = os.path.expanduser(value.strip())
    found = shutil.which(given) if os.sep not in given else None
    path = Path(found) if found else (root / given if not Path(given).is_absolute()
                                      else Path(given))
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise ConfigError(f"python: '{value}' is not a Python interpreter here (give the path "
                          "of your environment's bin/python)", where, "config")
    return str(path.absolute())


def table_location(config_file: Path | None, table: str, shown: str | None = None
                   ) -> Location | None:
    """Where ``[table]`` of ``config_file`` starts (line 1 if it has none), for diagnostics;
    ``shown`` is the path as messages print it (default: as given)."""
    if config_file is None:
        return None
    line = 1
    pattern = rf"\s*\[\s*(deckgen\s*\.\s*)?{re.escape(table)}\s*\]\s*(#.*)?"
    try:
        for n, text in enumerate(config_file.read_text(encoding="utf-8").splitlines(), 1):
            if re.fullmatch(pattern, text):
                line = n
                break
    except (OSError, UnicodeDecodeError):
        pass
    return Location(shown or str(config_file), line)


def check_formats(formats: tuple[str, ...]) -> None:
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ConfigError(f"unknown output format(s): {', '.join(bad)} (known: "
                          f"{', '.join(FORMATS)})", None, "config")


def untrusted(cfg: Config, out_given: bool, why: str = "--no-exec",
              hint: str = "") -> tuple[Config, list[str]]:
    """The settings of a bank built untrusted (``--no-exec``, or a bank the user has not
    trusted, see deckgen/trust.py): its question and answers files must lie inside its
    folder, and so must its outputs unless ``--out`` says otherwise; its own templates are
    not used. ``why`` says in the messages why the bank is untrusted, ``hint`` what to do
    about it. Returns the settings and what was set aside, for the user to read."""
    root = cfg.root.resolve()
    where = Location(str(cfg.config_file), 1) if cfg.config_file else None
    tail = f"; {hint}" if hint else ""

    def inside(path: Path) -> bool:
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):  # a symlink loop is nowhere inside
            return False
        return resolved == root or root in resolved.parents

    outside = [p for p in (*cfg.sources, *cfg.answers) if not inside(p)]
    if cfg.config_file is not None and not inside(cfg.config_file):
        outside.insert(0, cfg.config_file)  # a deckgen.toml that links to a file elsewhere
    if outside:
        raise ConfigError(f"{why}: a bank's files must lie inside its folder {cfg.root}; "
                          f"deckgen.toml names {', '.join(map(str, outside[:3]))}{tail}",
                          where, "untrusted-path")
    if not out_given and not inside(cfg.out):
        raise ConfigError(f"{why}: deckgen.toml may not send outputs outside the bank "
                          f"folder ({cfg.out}); give --out to choose where they go{tail}",
                          where, "untrusted-path")
    notes = []
    if "max_cards" in cfg.print_options:  # a stranger may not raise the PDF's size limit
        notes.append(f"{why}: max_cards under [print] is not used; the PDF keeps its limit")
        cfg = cfg.with_settings("print", {k: v for k, v in cfg.print_options.items()
                                          if k != "max_cards"})
    if cfg.python is not None:  # asking it even its version would run a program
        notes.append(f"{why}: python in deckgen.toml ({cfg.python}) is not used")
        cfg = replace(cfg, python=None)
    if cfg.templates is not None:
        notes.append(f"{why}: the bank's own templates ({cfg.templates}) are not used; "
                     "the cards use deckgen's")
        cfg = replace(cfg, templates=None)
    return cfg, notes


def override(cfg: Config, **flags) -> Config:
    """Apply command-line flags; ``None`` means 'not given' and never overrides the file."""
    given = {k: v for k, v in flags.items() if v is not None}
    if "formats" in given:
        check_formats(given["formats"])
    if "name" in given:
        given["name"] = given["name"].strip()
        if not given["name"]:
            raise ConfigError("the deck name may not be empty", None, "config")
    return replace(cfg, **given)
