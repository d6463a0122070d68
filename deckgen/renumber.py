"""``deckgen renumber``: rewrite answers-file headings to the questions' current numbers.

Answers follow their questions across renumbering without it (binding.py); this brings the
headings back in line with ``deckgen list`` so the files read naturally again. The answers'
text is never touched, only the key in each heading, and the lock file learns the new keys in
the same commit, so the next build changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from deckgen.atomic import Staging
from deckgen.errors import Location
from deckgen.pipeline import Gathered

_HEADING = re.compile(r"^(\s{0,3}##\s+)(Q?)(\d+(?:\.\d+)?)(\s*(?:#+\s*)?)$", re.IGNORECASE)


@dataclass(frozen=True)
class Change:
    loc: Location
    """The heading's line in its answers file."""
    path: Path
    old: str
    new: str
    guid: str

    def __str__(self) -> str:
        return f"{self.loc}: ## {self.old} -> ## {self.new}"


def plan(gathered: Gathered, resolve: dict[str, Path]) -> list[Change]:
    """Every heading whose key differs from its question's current key.

    ``resolve`` maps the answers files' shown paths to their real paths.
    """
    assert gathered.identities is not None
    changes = []
    by_guid = {e.guid: e for e in gathered.identities.lock.entries}
    for bank in gathered.banks:
        for q in bank.questions:
            for p in q.parts:
                guid = gathered.identities.guids.get((bank.path, q.key(p)), "")
                entry = by_guid.get(guid)
                if entry is None or p.answer is None or not entry.answer_key:
                    continue
                if entry.answer_key != q.key(p) and p.answer.loc.path in resolve:
                    changes.append(Change(p.answer.loc, resolve[p.answer.loc.path],
                                          entry.answer_key, q.key(p), guid))
    return sorted(changes, key=lambda c: (str(c.path), c.loc.line))


def apply(changes: list[Change], gathered: Gathered, staging: Staging) -> None:
    """Stage the rewritten answers files and the lock (the caller commits)."""
    assert gathered.identities is not None
    by_file: dict[Path, list[Change]] = {}
    for change in changes:
        by_file.setdefault(change.path, []).append(change)
    for path, mine in by_file.items():
        lines = path.read_bytes().decode("utf-8-sig").splitlines(keepends=True)
        bom = path.read_bytes().startswith(b"\xef\xbb\xbf")
        for change in mine:
            index = change.loc.line - 1
            body = lines[index].rstrip("\r\n")
            ending = lines[index][len(body):]
            m = _HEADING.match(body)
            if not m or m.group(3) != change.old:
                raise ValueError(f"{change.loc}: expected the heading '## {change.old}'")
            lines[index] = f"{m.group(1)}{m.group(2)}{change.new}{m.group(4)}{ending}"
        text = "".join(lines)
        staging.stage_bytes(path, (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    by_guid = {e.guid: e for e in gathered.identities.lock.entries}
    for change in changes:
        by_guid[change.guid].answer_key = change.new
    gathered.identities.lock.write(staging)
