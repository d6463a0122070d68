"""Line-level repairs of hand-written banks, applied before parsing, with a map back to the file.

Each repair fixes a pattern that CommonMark reads differently from what the author meant (all
seen in the default bank). Lines are only split, dedented or separated by blank lines, never
reworded, and every output line remembers its original line number for diagnostics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MARKER = re.compile(r"^(\s*)(\d{1,9})[.)](\s+|$)")
_BULLET = re.compile(r"^\s*[-*+]\s")
_INDENTED_ITEM = re.compile(r"^( {4,})\d{1,9}[.)]\s")
FENCE = re.compile(r"^\s*(```+|~~~+)")
# A closing tag that ends an HTML block on its own line; CommonMark would keep reading the
# following lines as HTML until a blank line.
_HTML_END = re.compile(r"</(table|details|div|figure|center)>\s*$", re.IGNORECASE)
# "3. Why ...? 4. Write ..." : two numbered sub-questions written on one line.
_TWO_ON_ONE = re.compile(r"^(\s*)(\d{1,9})\.(\s+)(.+?[?.])\s+(\d{1,9})\.\s+(\S.*)$")


@dataclass(frozen=True)
class Normalized:
    """Repaired text and, for each of its lines, the 1-based line number in the original."""

    text: str
    origin: tuple[int, ...]

    def line(self, index: int) -> int:
        """Original line number of the repaired text's 0-based line ``index``."""
        if not self.origin:
            return 1
        return self.origin[min(max(index, 0), len(self.origin) - 1)]


def normalize(text: str) -> Normalized:
    """Apply the repairs; see the module docstring."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = [(line, number) for number, line in enumerate(text.split("\n"), start=1)]
    lines = _expand_leading_tabs(lines)
    lines = _headings_out_of_bullets(lines)
    lines = _split_two_on_one(lines)
    lines = _dedent_stray_items(lines)
    lines = _indent_short_nested_items(lines)
    lines = _separate_items_from_paragraphs(lines)
    lines = _separate_html_blocks(lines)
    return Normalized("\n".join(line for line, _ in lines), tuple(n for _, n in lines))


def _expand_leading_tabs(lines: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Tabs in the indentation outside code fences become spaces (CommonMark's tab stop: 4).

    The repairs below measure indentation in spaces; a tab they did not count once made one of
    them loop forever on ``1.  What?`` followed by `` \t1. Why?``. Code keeps its tabs.
    """
    out = []
    in_fence = False
    for line, number in lines:
        if FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and "\t" in line[:len(line) - len(line.lstrip())]:
            stripped = line.lstrip()
            line = line[:len(line) - len(stripped)].expandtabs(4) + stripped
        out.append((line, number))
    return out


_BULLET_HEADING = re.compile(r"^ {0,3}[-*+] +(#{1,6} +\S.*)$")


def _headings_out_of_bullets(lines: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """``* ### Beginner level``: a section heading written as a list item is a heading.

    Inside the list, CommonMark would keep it from ending the questions before it.
    """
    out: list[tuple[str, int]] = []
    in_fence = False
    for line, number in lines:
        if FENCE.match(line):
            in_fence = not in_fence
        m = None if in_fence else _BULLET_HEADING.match(line)
        if m:
            out.extend([("", number), (m.group(1), number), ("", number)])
        else:
            out.append((line, number))
    return out


def _split_two_on_one(lines: list[tuple[str, int]]) -> list[tuple[str, int]]:
    out = []
    for line, number in lines:
        m = _TWO_ON_ONE.match(line)
        if m and int(m.group(5)) == int(m.group(2)) + 1:
            indent, first, spaces = m.group(1), m.group(2), m.group(3)
            out.append((f"{indent}{first}.{spaces}{m.group(4)}", number))
            out.append((f"{indent}{m.group(5)}. {m.group(6)}", number))
        else:
            out.append((line, number))
    return out


def _dedent_stray_items(lines: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Numbered items indented four spaces after a non-list line become a real list.

    CommonMark reads them as an indented code block (after a blank line) or as the lazy
    continuation of a paragraph; the author meant the question's parts.
    """
    out = list(lines)
    in_fence = False
    previous = ""  # last non-blank line outside the run being dedented
    i = 0
    while i < len(out):
        line, _ = out[i]
        if FENCE.match(line):
            in_fence = not in_fence
        m = None if in_fence else _INDENTED_ITEM.match(line)
        if m and previous and not previous[0].isspace() and not _MARKER.match(previous) \
                and not _BULLET.match(previous):
            width = len(m.group(1))
            j = i
            while j < len(out):
                text, number = out[j]
                if text.strip() and len(text) - len(text.lstrip(" ")) < width:
                    break
                out[j] = (text[width:] if text.strip() else "", number)
                j += 1
            # The dedented lines may contain fences; rescan them from the start.
            in_fence = False
            for text, _ in out[i:j]:
                if FENCE.match(text):
                    in_fence = not in_fence
            previous = next((t for t, _ in reversed(out[i:j]) if t.strip()), previous)
            i = j
            continue
        if line.strip():
            previous = line
        i += 1
    return out


def _indent_short_nested_items(lines: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """``13.  Text`` then ``    1. Sub``: the sub-item is one column short of nesting.

    CommonMark needs a nested item at the parent's content column (5 here); four spaces make
    it part of the parent's paragraph. The author meant a nested list, so indent it.
    """
    out = list(lines)
    parent: tuple[int, int] | None = None  # (marker column, content column) of the last item
    in_fence = False
    i = 0
    while i < len(out):
        line, _ = out[i]
        if FENCE.match(line):
            in_fence = not in_fence
        m = None if in_fence else _MARKER.match(line)
        if m:
            indent = len(m.group(1))
            if parent and parent[0] < indent < parent[1] and indent >= 2:
                pad = " " * (parent[1] - indent)
                j = i
                while j < len(out) and (not out[j][0].strip() or
                                        len(out[j][0]) - len(out[j][0].lstrip(" ")) >= indent):
                    text, number = out[j]
                    out[j] = (pad + text if text.strip() else text, number)
                    j += 1
                i = max(j, i + 1)  # always move on, whatever the indentation held
                continue
            if indent < 4:
                parent = (indent, m.end())
        elif line.strip() and not line[0].isspace():
            parent = None
        i += 1
    return out


def _separate_items_from_paragraphs(lines: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """A blank line before ``N.`` (N > 1) that directly follows a paragraph line.

    Only a list starting at 1 may interrupt a paragraph, so CommonMark glues "3. Assume ..."
    to the paragraph above; in a question bank it is the next part.
    """
    out: list[tuple[str, int]] = []
    in_fence = False
    previous = ""
    for line, number in lines:
        if FENCE.match(line):
            in_fence = not in_fence
        m = None if in_fence else _MARKER.match(line)
        if m and int(m.group(2)) > 1 and m.group(3) and previous.strip() \
                and not _MARKER.match(previous) and not FENCE.match(previous) \
                and not previous.lstrip().startswith(("|", "<", "$$")):
            out.append(("", number))
        out.append((line, number))
        previous = line
    return out


def _separate_html_blocks(lines: list[tuple[str, int]]) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    in_fence = False
    for index, (line, number) in enumerate(lines):
        out.append((line, number))
        if FENCE.match(line):
            in_fence = not in_fence
        following = lines[index + 1][0] if index + 1 < len(lines) else ""
        if not in_fence and _HTML_END.search(line) and following.strip():
            out.append(("", number))
    return out
