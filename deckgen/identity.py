"""Note identity that survives edits and renumbering: explicit ids and the lock file.

``deckgen.lock`` (JSON, beside the bank, meant to be committed) remembers every note deckgen
has ever given out: its GUID, the question/part key it had, and a short excerpt of its text.
Each build matches the bank's parts to those entries:

1. an explicit ``<!-- id: name -->`` wins;
2. the same text (whatever its number or section) keeps its GUID;
3. otherwise the most similar unclaimed entry, best pairs first, if similar enough: a lower
   bar for the same key (a typo fixed, a number changed) than for a moved *and* edited part;
4. anything left gets a new GUID that no entry has ever used.

Entries that match nothing are kept, marked ``removed``, and reported: Anki never deletes notes
on import, so the user must be told. The lock also remembers hashes of each question and
answer, so ``deckgen check`` can say which answers may be stale.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deckgen.atomic import DiskError, Staging, reason, recover, sha256
from deckgen.errors import Diagnostic, Location, Severity
from deckgen.ids import note_guid
from deckgen.model import Answer, Bank, Figure, Part, Question, Text

LOCK_NAME = "deckgen.lock"
LOCK_VERSION = 1
EXCERPT = 240
SAME_KEY_SIMILARITY = 0.5
MOVED_SIMILARITY = 0.6
MAX_PAIRS = 250_000  # beyond this many edited x vanished pairs, only exact matches count


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def part_text(q: Question, part: Part) -> tuple[str, str]:
    """(stem text, part text), whitespace-collapsed, for matching and hashing."""
    def flat(blocks) -> str:
        return _squash(" ".join(b.markdown if isinstance(b, Text) else
                                f"[figure {b.src}]" if isinstance(b, Figure) else ""
                                for b in blocks))
    return flat(q.stem), flat(part.body) + "".join(f" ({c.number}) {_squash(c.markdown)}"
                                                   for c in part.choices)


def excerpt(q: Question, part: Part, texts: tuple[str, str] | None = None) -> str:
    """The text the lock keeps to match a part by (``texts``: its ``part_text``, if known)."""
    stem, own = texts or part_text(q, part)
    if own:
        return (stem[:EXCERPT // 3] + " | " + own)[:EXCERPT]
    return stem[:EXCERPT]


def _hash(*texts: str) -> str:
    return hashlib.sha256("\x1f".join(texts).encode()).hexdigest()[:16]


@dataclass
class Entry:
    guid: str
    file: str
    key: str
    text: str
    question: str = ""
    """Hash of the question text (stem + part) at the last build."""
    answer: str = ""
    """Hash of the answer's Markdown at the last build."""
    answered_question: str = ""
    """Hash of the question text when the answer last changed."""
    blanks: int = 0
    removed: bool = False
    answer_key: str = ""
    """The answers-file heading (``12.2``) this note's answer came from at the last build: so
    an answer follows its question when the question file is renumbered (binding.py)."""

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in ("", 0, False) or k in
                ("guid", "file", "key", "text")}


_ENTRY_TYPES: dict[str, type] = {"guid": str, "file": str, "key": str, "text": str,
                                  "question": str, "answer": str, "answered_question": str,
                                  "blanks": int, "removed": bool, "answer_key": str}
"""Every field of an entry in the lock file, with its JSON type (tests keep it in line with
``Entry``)."""
_REQUIRED = ("guid", "file", "key", "text")
_NON_EMPTY = ("guid", "file", "key")
_TOP_KEYS = {"version", "notes", "note_types"}
MAX_PROBLEMS = 8
"""At most this many problems are listed in one lock error (then "and N more")."""


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true or false",
            int: "a whole number", float: "a number", type(None): "null"}.get(type(value),
                                                                           "a value")


_SPACE = re.compile(r"[ \t\n\r,:]*")
"""What separates JSON values (commas and colons included: the text parses already)."""


def _entry_lines(text: str) -> list[int] | None:
    """The line on which each entry of the top-level ``notes`` list starts (``text`` is valid
    JSON); None if it is not an object with such a list."""
    decoder = json.JSONDecoder()

    def skip(i: int) -> int:
        m = _SPACE.match(text, i)
        return m.end() if m else i

    lines: list[int] | None = None
    try:
        i = skip(0)
        if text[i] != "{":
            return None
        i = skip(i + 1)
        while text[i] != "}":
            name, i = decoder.raw_decode(text, i)
            i = skip(i)
            if name == "notes" and text[i] == "[":
                lines, line, at = [], 1, 0
                i = skip(i + 1)
                while text[i] != "]":
                    line += text.count("\n", at, i)
                    at = i
                    lines.append(line)
                    _, i = decoder.raw_decode(text, i)
                    i = skip(i)
                i += 1
            else:
                _, i = decoder.raw_decode(text, i)
            i = skip(i)
    except (IndexError, ValueError):
        return None
    return lines


def validate(data: Any) -> list[tuple[int | None, str]]:
    """What is wrong with a parsed lock file: (entry index or None, problem) pairs; empty if
    nothing is. Duplicate GUIDs are reported by ``duplicates``."""
    if not isinstance(data, dict):
        return [(None, f"the lock must be a JSON object, not {_json_type(data)}")]
    problems: list[tuple[int | None, str]] = []
    version = data.get("version")
    if "version" not in data:
        problems.append((None, "'version' is missing"))
    elif type(version) is not int or version != LOCK_VERSION:
        problems.append((None, f"unknown lock version {json.dumps(version)[:40]} (this "
                         f"deckgen reads version {LOCK_VERSION})"))
    for key in sorted(set(data) - _TOP_KEYS):
        problems.append((None, f"unknown key {key!r} at the top level"))
    if "note_types" in data:
        types = data["note_types"]
        if not isinstance(types, dict) or not all(
                isinstance(k, str) and type(v) is int for k, v in types.items()):
            problems.append((None, "'note_types' must map names to whole numbers"))
    notes = data.get("notes")
    if "notes" not in data:
        problems.append((None, "'notes' is missing"))
        return problems
    if not isinstance(notes, list):
        problems.append((None, f"'notes' must be a list of entries, not {_json_type(notes)}"))
        return problems
    if not notes:
        problems.append((None, "'notes' is empty: deckgen never writes a lock without notes"))
    for i, entry in enumerate(notes):
        if not isinstance(entry, dict):
            problems.append((i, f"an entry must be an object, not {_json_type(entry)}"))
            continue
        for name in _REQUIRED:
            if name not in entry:
                problems.append((i, f"'{name}' is missing"))
        for name, value in entry.items():
            want = _ENTRY_TYPES.get(name)
            if want is None:
                problems.append((i, f"unknown field {name!r}"))
            elif type(value) is not want:  # no bool for a number here, no number for a bool
                problems.append((i, f"'{name}' must be {_json_type(want())}, not "
                                 f"{json.dumps(value, ensure_ascii=False)[:40]}"))
            elif name in _NON_EMPTY and not entry[name].strip():
                problems.append((i, f"'{name}' is empty"))
            elif name == "blanks" and entry[name] < 0:
                problems.append((i, f"'blanks' must not be negative ({value})"))
    return problems


def duplicates(entries: list[Entry]) -> list[list[int]]:
    """Indexes of the entries that share a GUID, one list per GUID (in file order)."""
    by_guid: dict[str, list[int]] = {}
    for i, e in enumerate(entries):
        by_guid.setdefault(e.guid, []).append(i)
    return [ix for ix in by_guid.values() if len(ix) > 1]


@dataclass
class Lock:
    path: Path
    entries: list[Entry] = field(default_factory=list)
    note_types: dict[str, int] = field(default_factory=dict)
    """Optional ``note_types`` of the lock file (name -> Anki note-type id), kept as read."""
    origin: str | None = field(default=None, repr=False)
    """SHA-256 of the lock file as read ("" if there was none); None if not read from disk.
    Writing refuses to replace a lock that changed on disk since it was read."""

    @classmethod
    def read(cls, path: Path) -> Lock:
        """The lock file, or an empty one if absent; an unreadable or malformed lock is an
        error naming what is wrong, never silently replaced (that would give every note a new
        identity). A commit that a killed deckgen left unfinished in the lock's folder is
        finished first (atomic.py)."""
        from deckgen.errors import SourceError

        recover(path.parent)
        shown_path = str(path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return cls(path, origin="")
        except OSError as exc:
            raise SourceError(f"cannot read the lock file: {reason(exc)}",
                              Location(shown_path, 1), "lock-unreadable") from exc
        advice = ("; restore it from version control, or delete it to start identities "
                  "afresh (notes already in Anki would then be duplicated)")
        try:
            text = raw.decode("utf-8")
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError, JSONDecodeError
            if isinstance(exc, RecursionError):
                exc = ValueError("nested too deeply")
            line = getattr(exc, "lineno", 1)
            raise SourceError(f"cannot read the lock file ({exc}){advice}",
                              Location(shown_path, line), "lock-unreadable") from exc
        problems = validate(data)
        if problems:
            lines = _entry_lines(text) or []

            def where(i: int | None) -> str:
                if i is None:
                    return ""
                entry = data["notes"][i]
                key = entry.get("key") if isinstance(entry, dict) else None
                said = ([f"key {key}"] if isinstance(key, str) and key.strip() else []) + \
                    ([f"line {lines[i]}"] if i < len(lines) else [])
                return f"entry {i + 1}" + (f" ({', '.join(said)})" if said else "") + ": "

            shown = [where(i) + p for i, p in problems[:MAX_PROBLEMS]]
            if len(problems) > MAX_PROBLEMS:
                shown.append(f"and {len(problems) - MAX_PROBLEMS} more")
            first = next((i for i, _ in problems if i is not None and i < len(lines)), None)
            raise SourceError("the lock file is malformed: " + "; ".join(shown) + advice,
                              Location(shown_path, lines[first] if first is not None else 1),
                              "lock-unreadable")
        entries = [Entry(**e) for e in data["notes"]]
        dups = duplicates(entries)
        if dups:
            lines = _entry_lines(text) or []

            def entry_at(i: int) -> str:
                e = entries[i]
                line = f", line {lines[i]} of the lock" if i < len(lines) else ""
                return f"key {e.key} of {e.file}{' (removed)' if e.removed else ''}{line}"

            said = [f"'{entries[ix[0]].guid}' is given to " + " and ".join(map(entry_at, ix))
                    for ix in dups[:MAX_PROBLEMS]]
            if len(dups) > MAX_PROBLEMS:
                said.append(f"and {len(dups) - MAX_PROBLEMS} more")
            first = dups[0][1]
            raise SourceError(
                "the lock file gives one GUID to several notes (a bad merge?): "
                + "; ".join(said) + ". Importing would overwrite one note, and its review "
                "history, with another: keep one entry per GUID (delete the others, whose "
                "questions then get new notes) or restore the lock from version control",
                Location(shown_path, lines[first] if first < len(lines) else 1),
                "duplicate-guid")
        return cls(path, entries, dict(data.get("note_types", {})),
                   hashlib.sha256(raw).hexdigest())

    def text(self) -> str:
        notes = [e.to_json() for e in sorted(self.entries, key=lambda e: (e.file, e.removed,
                                                                        _key_order(e.key)))]
        types = (' "note_types": %s,\n' % json.dumps(self.note_types, sort_keys=True,
                                                      ensure_ascii=False)
                 if self.note_types else "")
        return '{\n "version": %d,\n' % LOCK_VERSION + types + ' "notes": [\n' + ",\n".join(
            "  " + json.dumps(n, ensure_ascii=False, sort_keys=True) for n in notes) + "\n ]\n}\n"

    def write(self, staging: Staging) -> None:
        """Stage the lock file (the staging commits it with the rest). Raises DiskError if the
        file changed on disk since it was read (another deckgen, a checkout): replacing it
        would lose that change."""
        if self.origin is not None:
            now = sha256(self.path) or ""
            if now != self.origin:  # an OSError too, so every caller reports it (cli.py)
                raise DiskError("the lock file changed while deckgen was running (another "
                                "deckgen, or a checkout?); nothing was written: run the "
                                "command again", loc=Location(str(self.path), 1),
                                code="lock-changed")
        staging.stage_bytes(self.path, self.text().encode("utf-8"), anchor=True)


def _key_order(key: str) -> list[int]:
    return [int(x) if x.isdigit() else 0 for x in key.split(".")]


@dataclass
class Identities:
    """The result of matching: a GUID per part, and what changed."""

    guids: dict[tuple[str, str], str]
    """(bank path, key) -> GUID."""
    lock: Lock
    removed: list[Entry]
    """Entries that matched nothing in this build and were not removed before."""
    diagnostics: list[Diagnostic]


def search_id(guid: str) -> str:
    """A short token written into each note's Source field, so Anki's search can find it."""
    return "dg-" + hashlib.sha256(guid.encode()).hexdigest()[:10]


def anki_query(guids: list[str]) -> str:
    """An Anki browser search matching the notes with these GUIDs."""
    return " OR ".join(f'"Source:*{search_id(g)}*"' for g in guids)


Item = tuple[Question, Part, str, str]
"""A part to match: its question, the part, its key (``12.3``) and its text (``excerpt``)."""
Match = dict[str, "int | str"]
"""key -> the lock entry it keeps (an index into ``lock.entries``), or a GUID (explicit id)."""


def assign(banks: list[Bank], lock: Lock, salt: str = "") -> Identities:
    """Match the banks' parts to the lock's entries (updating the lock in memory).

    In steps, each a function of its own: explicit ids, then the same text, then similar text
    (edited, renumbered or moved), then new notes; then the lock's entries are updated, and
    last the report (notes gone, blanks lost). ``salt`` (the deck's name) enters the GUIDs of
    new notes, so that two banks never give the same GUID to their notes; GUIDs already in
    the lock never change.
    """
    diags: list[Diagnostic] = []
    blanks_before = {e.guid: e.blanks for e in lock.entries if not e.removed}
    by_guid = {e.guid: e for e in lock.entries}
    guids: dict[tuple[str, str], str] = {}
    used = {e.guid for e in lock.entries}
    claimed: set[int] = set()
    new_entries: list[Entry] = []
    seen_ids: dict[str, Location] = {}

    for bank in banks:
        file = Path(bank.path).name
        pool = [i for i, e in enumerate(lock.entries) if e.file == file]
        texts = {id(p): part_text(q, p) for q in bank.questions for p in q.parts}
        items: list[Item] = [(q, p, q.key(p), excerpt(q, p, texts[id(p)]))
                             for q in bank.questions for p in q.parts]
        result: Match = {}
        diags.extend(match_ids(items, lock, pool, by_guid, salt, seen_ids, result, claimed))
        match_same_text(items, lock, pool, result, claimed)
        diags.extend(match_similar(items, lock, pool, result, claimed))
        for _, p, key, text in items:  # new notes, and the updated lock entries
            entry = _entry_for(result.get(key), lock, by_guid, used, new_entries, file, key,
                               text, salt)
            used.add(entry.guid)
            _update_question(entry, p, key, text, texts[id(p)])
            guids[(bank.path, key)] = entry.guid

    removed = _mark_removed(banks, lock, claimed, set(guids.values()))
    lock.entries.extend(new_entries)
    diags.extend(_lost_blanks(banks, guids, blanks_before))
    return Identities(guids, lock, removed, diags)


def match_ids(items: list[Item], lock: Lock, pool: list[int], by_guid: dict[str, Entry],
              salt: str, seen_ids: dict[str, Location], result: Match,
              claimed: set[int]) -> list[Diagnostic]:
    """Step 1: a part with an explicit id keeps the note of that id, wherever it moved."""
    diags = []
    for _, p, key, _ in items:
        if not p.id:
            continue
        if p.id in seen_ids:
            diags.append(Diagnostic(p.loc, f"id '{p.id}' is also used at {seen_ids[p.id]}; ids "
                                    "must be unique", "duplicate-id"))
            continue
        seen_ids[p.id] = p.loc
        guid = note_guid("id", p.id)  # as deckgen made it before GUIDs had a salt
        if guid not in by_guid:
            guid = note_guid(f"{salt}\x1eid" if salt else "id", p.id)
        result[key] = guid
        claimed.update(i for i in pool if lock.entries[i].guid == guid)
    return diags


def match_same_text(items: list[Item], lock: Lock, pool: list[int], result: Match,
                    claimed: set[int]) -> None:
    """Step 2: unchanged text keeps its note (the one with the same key first, if several)."""
    by_text: dict[str, list[int]] = {}
    for i in pool:
        by_text.setdefault(lock.entries[i].text, []).append(i)
    for _, _, key, text in items:
        if key in result:
            continue
        candidates = [i for i in by_text.get(text, []) if i not in claimed]
        if candidates:
            best = next((i for i in candidates if lock.entries[i].key == key), candidates[0])
            result[key] = best
            claimed.add(best)


def match_similar(items: list[Item], lock: Lock, pool: list[int], result: Match,
                  claimed: set[int]) -> list[Diagnostic]:
    """Step 3: edited text, possibly also renumbered or moved, keeps its note when similar
    enough (``SAME_KEY_SIMILARITY`` under the same key, ``MOVED_SIMILARITY`` elsewhere). The
    globally best pairs go first, so "What is a perceptron?" goes to its reworded self, not
    to a new "What is a tensor?". Beyond ``MAX_PAIRS`` comparisons only steps 1 and 2 apply,
    and a warning says so."""
    left = [(p, key, text) for _, p, key, text in items if key not in result]
    free = [i for i in pool if i not in claimed]
    if not left or not free:
        return []
    if len(left) * len(free) > MAX_PAIRS:
        return [Diagnostic(
            left[0][0].loc, f"{len(left)} questions or parts changed or moved while "
            f"{len(free)} earlier ones are gone: too many to compare one by one, so only "
            "unchanged text kept its note; the others become new notes (their review "
            "history stays with the old ones). Build after smaller edits to keep it",
            "identity-limit", Severity.WARNING)]
    scored = []
    for _, key, text in left:
        for i in free:
            e = lock.entries[i]
            same = e.key == key and not e.removed
            need = SAME_KEY_SIMILARITY if same else MOVED_SIMILARITY
            if difflib.SequenceMatcher(None, e.text, text).quick_ratio() >= need:
                score = _similar(e.text, text)
                if score >= need:
                    scored.append((score, same, key, i))
    for _, _, key, i in sorted(scored, reverse=True):
        if key not in result and i not in claimed:
            result[key] = i
            claimed.add(i)
    return []


def _entry_for(got: int | str | None, lock: Lock, by_guid: dict[str, Entry], used: set[str],
               new_entries: list[Entry], file: str, key: str, text: str, salt: str) -> Entry:
    """Step 4: the lock entry of a part: the one it matched, else a new note's."""
    if isinstance(got, int):
        return lock.entries[got]
    if isinstance(got, str):  # an explicit id
        entry = by_guid.get(got)
        if entry is None:
            entry = by_guid[got] = Entry(got, file, key, text)
            new_entries.append(entry)
        return entry
    # salted with the deck's name: two banks that both have a question 1 in a questions.md
    # must not share a note in one collection
    base = f"{salt}\x1e{file}" if salt else file
    guid = note_guid(base, key)
    n = 1
    while guid in used:
        n += 1
        guid = note_guid(base, f"{key}#{n}")
    entry = Entry(guid, file, key, text)
    new_entries.append(entry)
    return entry


def _mark_removed(banks: list[Bank], lock: Lock, claimed: set[int], current: set[str]
                  ) -> list[Entry]:
    """The report, 1: entries of these files that matched nothing are marked removed; the
    ones removed by this build are returned."""
    removed = []
    files = {Path(b.path).name for b in banks}
    for i, e in enumerate(lock.entries):
        if e.file in files and i not in claimed and e.guid not in current:
            if not e.removed:
                removed.append(e)
            e.removed = True
    return removed


def _lost_blanks(banks: list[Bank], guids: dict[tuple[str, str], str],
                 blanks_before: dict[str, int]) -> list[Diagnostic]:
    """The report, 2: a cloze with fewer blanks than before leaves empty cards in Anki."""
    diags = []
    for bank in banks:
        for q in bank.questions:
            for p in q.parts:
                guid = guids.get((bank.path, q.key(p)), "")
                if guid in blanks_before and p.blanks < blanks_before[guid]:
                    diags.append(Diagnostic(p.loc, f"{q.key(p)} now has {p.blanks} blank(s), "
                                            f"had {blanks_before[guid]}: Anki keeps the extra "
                                            "card(s) with nothing to ask; delete them with Tools "
                                            "> Check Database > Empty Cards", "lost-blanks",
                                            Severity.WARNING))
    return diags


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def _update_question(entry: Entry, p: Part, key: str, text: str,
                     texts: tuple[str, str]) -> None:
    entry.question = _hash(*texts)
    entry.key, entry.text, entry.blanks, entry.removed = key, text, p.blanks, False


def answer_hash(markdown: str) -> str:
    return _hash(markdown)


def record_answers(banks: list[Bank], identities: Identities,
                   answer_keys: dict[str, str] | None = None) -> list[Diagnostic]:
    """After answers are attached: remember each note's answer (its hash, the heading it came
    from) and report answers that may be stale because their question changed since."""
    by_guid = {e.guid: e for e in identities.lock.entries}
    diags: list[Diagnostic] = []
    for bank in banks:
        for q in bank.questions:
            for p in q.parts:
                entry = by_guid.get(identities.guids.get((bank.path, q.key(p)), ""))
                if entry is None:
                    continue
                ahash = _hash(p.answer.markdown) if p.answer else ""
                if ahash != entry.answer:
                    entry.answered_question = entry.question if ahash else ""
                elif not entry.answered_question and ahash:
                    entry.answered_question = entry.question
                entry.answer = ahash
                if answer_keys is not None:
                    entry.answer_key = answer_keys.get(entry.guid, "")
                diags.extend(_stale(q, p, entry))
    return diags


def accept(banks: list[Bank], identities: Identities, keys: set[str] | None,
           ambiguous: dict[tuple[str, str], Answer] | None = None) -> list[str]:
    """Mark the answers of these keys (None: every stale one) as still right for their
    changed questions, and bind each ambiguous answer among them to the question that has
    its number now; returns the keys accepted. The caller writes the lock."""
    by_guid = {e.guid: e for e in identities.lock.entries}
    done = []
    for bank in banks:
        for q in bank.questions:
            for p in q.parts:
                key = q.key(p)
                entry = by_guid.get(identities.guids.get((bank.path, key), ""))
                if entry is None or (keys is not None and key not in keys):
                    continue
                answer = (ambiguous or {}).get((bank.path, key))
                if answer is not None and keys is not None:
                    for other in identities.lock.entries:  # the heading's old binding
                        if other.file == entry.file and other.answer_key == key:
                            other.answer_key = ""
                    entry.answer, entry.answer_key = _hash(answer.markdown), key
                    entry.answered_question = entry.question
                    done.append(key)
                    continue
                if not p.answer:
                    continue
                if entry.answered_question and entry.answered_question != entry.question:
                    entry.answered_question = entry.question
                    done.append(key)
    return done


def _stale(q: Question, p: Part, entry: Entry | None) -> list[Diagnostic]:
    if entry is None or not p.answer or not entry.answered_question:
        return []
    if entry.answered_question != entry.question:
        return [Diagnostic(p.answer.loc, f"{q.key(p)}: the question changed after this answer "
                           "was last edited; check that the answer still fits", "stale-answer",
                           Severity.WARNING)]
    return []
