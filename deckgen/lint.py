"""Markdown that parses but is probably not what the author meant: warnings with locations."""

from __future__ import annotations

import operator
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
            _conversion_damage(tok.children or [], path, line_of, line, out)
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


# -- damage from converting a PDF or a scan to Markdown -------------------------------------
# A word broken at a line end keeps its hyphen and gains a space ("ex- cellent"); lines
# joined without their spaces run words together ("Whichwell-knownmetricisbeingused",
# "understand,during"); a word is written twice ("in in"). Only prose is looked at: code,
# math and links are not.

_BROKEN_WORD = re.compile(r"(?<![\w-])([A-Za-z]{2,})-[ \n]+([a-z]{2,})\b")
_SUSPENDED = {"and", "or", "nor", "to", "vs", "versus", "through", "as"}
"""'pre- and post-training': a hyphen left for the word after, not damage."""
_RUN_TOGETHER = re.compile(r"[A-Za-z]{21,}|[a-z]{2,},[a-z]{2,}")
"""21 letters: longer than the long words of English ('internationalization' has 20)."""
_DOUBLED = re.compile(r"(?<![\w-])([A-Za-z]{2,}(?: [A-Za-z]{2,})?)[ \n]+\1(?![\w-])",
                     re.IGNORECASE)
"""A word or two written twice ("as depicted in in", "a listing of the of the"): a line
joined twice, or a sentence edited halfway."""
_DOUBLES = {"had", "that", "bye", "no"}
"""Words English does double ("what it had had", "so that that")."""
_WORD = re.compile(r"[A-Za-z]{2,}")


def _may_repeat(text: str) -> bool:
    """A cheap test before ``_DOUBLED`` (a regex with a back-reference, slow on long text):
    some word, or pair of words, comes twice in a row, whatever lies between them."""
    w = _WORD.findall(text.lower())
    if any(map(operator.eq, w, w[1:])):
        return True
    pairs = list(zip(w, w[1:]))
    return any(map(operator.eq, pairs, pairs[2:]))


MAX_DAMAGE_REPORTS = 3
"""Per paragraph: the first few are enough to see what happened."""


def _conversion_damage(children: list[Token], path: str, line_of: Callable[[int], int],
                       first: int, out: list[Diagnostic]) -> None:
    text, lines, link = "", 0, 0
    for child in children:
        link += child.type == "link_open"
        link -= child.type == "link_close"
        if child.type == "text" and not link:
            text += child.content
        elif child.type in ("softbreak", "hardbreak"):
            text += "\n"
        else:
            text += " \x00 "  # code, math, links, HTML: a gap no pattern runs across
    if len(text) < 5:
        return
    found = 0
    for m in (_BROKEN_WORD.finditer(text) if "-" in text else ()):
        if m.group(2) in _SUSPENDED or found >= MAX_DAMAGE_REPORTS:
            continue
        found += 1
        lines = text.count("\n", 0, m.start(2))
        out.append(Diagnostic(Location(path, line_of(first + lines)),
                              f"'{m.group(0).replace(chr(10), ' ')}' looks like a word broken "
                              f"at a line end: '{m.group(1)}{m.group(2)}' (or, for a compound, "
                              "the hyphen without the space)", "broken-word",
                              Severity.WARNING))
    for m in (_DOUBLED.finditer(text) if _may_repeat(text) else ()):
        if m.group(1).lower() in _DOUBLES or found >= MAX_DAMAGE_REPORTS:
            continue
        found += 1
        lines = text.count("\n", 0, m.start())
        out.append(Diagnostic(Location(path, line_of(first + lines)),
                              f"'{m.group(0).replace(chr(10), ' ')}' repeats '{m.group(1)}'",
                              "doubled-word", Severity.WARNING))
    for m in (_RUN_TOGETHER.finditer(text) if len(text) > 20 or "," in text else ()):
        if found >= MAX_DAMAGE_REPORTS:
            break
        found += 1
        lines = text.count("\n", 0, m.start())
        out.append(Diagnostic(Location(path, line_of(first + lines)),
                              f"'{m.group(0)[:40]}' looks like words run together (spaces lost "
                              "in a conversion?)", "run-together", Severity.WARNING))
