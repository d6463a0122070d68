"""Diagnostics: errors and warnings that carry the source location they are about."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True, order=True)
class Location:
    """A place in a source file; printed as ``path:line``."""

    path: str
    """File path as given to deckgen (relative to the working directory where possible)."""
    line: int
    """1-based line number."""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in the bank, with a code that can be silenced (``deckgen.<code>``)."""

    loc: Location | None
    """Where the problem is; None only for problems with no file (e.g. a missing bank)."""
    message: str
    """What is wrong, in one sentence."""
    code: str
    """Short stable name, e.g. ``missing-answer``; shown as ``[deckgen.missing-answer]``."""
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        where = f"{self.loc}: " if self.loc else ""
        return f"{where}{self.severity.value}: {self.message} [deckgen.{self.code}]"


class DeckgenError(Exception):
    """An error the user can fix; the CLI prints it without a traceback."""

    def __init__(self, message: str, loc: Location | None = None, code: str = "error"):
        super().__init__(message)
        self.diagnostic = Diagnostic(loc, message, code)

    def __str__(self) -> str:
        return str(self.diagnostic)


class SourceError(DeckgenError):
    """The question bank or an answers file cannot be read as intended."""


class ConfigError(DeckgenError):
    """deckgen.toml (or a command-line option) is invalid."""


class ExecutionError(DeckgenError):
    """A code cell failed, timed out or killed its worker."""


class RenderError(DeckgenError):
    """An output could not be rendered or written."""


class BuildFailed(DeckgenError):
    """The build found errors; every one is in ``diagnostics``."""

    def __init__(self, diagnostics: list[Diagnostic]):
        errors = [d for d in diagnostics if d.severity is Severity.ERROR]
        super().__init__(f"{len(errors)} error(s); nothing was written", None, "build-failed")
        self.diagnostics = diagnostics
