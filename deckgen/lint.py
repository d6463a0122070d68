"""Markdown that parses but is probably not what the author meant: warnings with locations."""

from __future__ import annotations

import re
from collections.abc import Callable

from markdown_it.token import Token

from deckgen.errors import Diagnostic, Location, Severity

_STRAY_DOLLAR = re.compile(r"(?<![\\$])\$(?![\d\s$])")
_ENV = re.compile(r"\\(begin|end)\s*\{([^}]*)\}")
_LEFT = re.compile(r"\\left(?![a-zA-Z])")
_RIGHT = re.compile(r"\\right(?![a-zA-Z])")


def check_latex(tex: str) -> str | None:
    """Why this formula cannot be valid TeX, or None. Structural checks only."""
    depth = 0
    i = 0
    while i < len(tex):
        c = tex[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0:
                return "a '}' closes nothing"
        i += 1
    if depth > 0:
        return f"{depth} '{{' never closed"
    stack: list[str] = []
    for kind, name in _ENV.findall(tex):
        if kind == "begin":
            stack.append(name)
        elif not stack or stack.pop() != name:
            return f"\\end{{{name}}} does not match its \\begin"
    if stack:
        return f"\\begin{{{stack[-1]}}} is never ended"
    if len(_LEFT.findall(tex)) != len(_RIGHT.findall(tex)):
        return "\\left and \\right do not pair up"
    return None


def lint_tokens(tokens: list[Token], path: str, line_of: Callable[[int], int],
                lines: list[str]) -> list[Diagnostic]:
    """Unclosed fences, stray ``$`` and structurally broken formulas."""
    out: list[Diagnostic] = []
    line = 0
    for tok in tokens:
        if tok.map:
            line = tok.map[0]
        loc = Location(path, line_of(line))
        if tok.type == "fence" and tok.map and not _closed(tok, lines):
            out.append(Diagnostic(loc, "this code fence is never closed: everything after it "
                                  "is read as code", "unclosed-fence", Severity.WARNING))
        elif tok.type in ("math_block", "math_block_label"):
            _math(tok.content, loc, out)
        elif tok.type == "inline":
            for child in tok.children or []:
                if child.type in ("math_inline", "math_inline_double"):
                    _math(child.content, loc, out)
                elif child.type == "text" and _STRAY_DOLLAR.search(child.content):
                    out.append(Diagnostic(loc, "a '$' with no closing '$' is shown as text; "
                                          "write \\$ for a literal dollar sign", "stray-dollar",
                                          Severity.WARNING))
    return out


def _closed(tok: Token, lines: list[str]) -> bool:
    """markdown-it runs an unclosed fence to the end of its container; look for the closer."""
    assert tok.map is not None
    if tok.map[1] - tok.map[0] < 2:
        return False
    last = lines[tok.map[1] - 1].strip() if tok.map[1] - 1 < len(lines) else ""
    return bool(last) and set(last) == {tok.markup[0]} and len(last) >= len(tok.markup)


def _math(tex: str, loc: Location, out: list[Diagnostic]) -> None:
    problem = check_latex(tex)
    if problem:
        short = " ".join(tex.split())[:60]
        out.append(Diagnostic(loc, f"formula '{short}' is not valid LaTeX: {problem}",
                              "bad-latex", Severity.WARNING))
