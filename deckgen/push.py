"""``deckgen push``: the last build's package into Anki, without the import dialog.

Two ways in, both through Anki's own package importer, so a push does exactly what File >
Import does with the same package (notes matched by GUID, a note updated only when the build
changed it, review history and scheduling untouched, media brought along):

- a running Anki, through the AnkiConnect add-on (``importPackage``), on this computer;
- a closed collection file, through the ``anki`` package, after a backup of it in the
  profile's ``backups`` folder, the way Anki makes its own.

A push never deletes: notes of this bank that are no longer in its source are tagged
``deckgen::removed`` (and untagged if they come back). What it did is said in the words of
``deckgen diff``: new, updated (which fields), unchanged, and removed notes.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from deckgen.errors import DeckgenError
from deckgen.identity import search_id
from deckgen.model import Deck
from deckgen.render.anki import FIELDS, POSITION_FIELDS, fields_of

DEFAULT_URL = "http://127.0.0.1:8765"
REMOVED_TAG = "deckgen::removed"
ADDON = "AnkiConnect (add-on code 2055492159: Tools > Add-ons > Get Add-ons in Anki)"
_SEARCH_ID = re.compile(r"\bdg-[0-9a-f]{10}\b")


class PushError(DeckgenError):
    def __init__(self, message: str):
        super().__init__(message, None, "push")


@dataclass
class PushReport:
    new: list[str] = field(default_factory=list)
    updated: list[tuple[str, list[str]]] = field(default_factory=list)
    """(ref, the fields that changed)."""
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    """Notes the package would update but Anki kept (edited in Anki after the last push)."""
    removed: int = 0
    """Notes of this bank no longer in its source, tagged ``deckgen::removed``."""
    elsewhere: list[str] = field(default_factory=list)
    """Notes whose cards are in another deck than the bank says (left there)."""
    moved: int = 0
    warnings: list[str] = field(default_factory=list)

    def lines(self, show_all: bool = False) -> list[str]:
        out = [f"new       {ref}" for ref in self.new]
        out += [f"updated   {ref:<8} ({', '.join(f)})" for ref, f in self.updated]
        out += [f"kept      {ref:<8} - edited in Anki since; Anki keeps its copy"
                for ref in self.kept]
        if show_all:
            out += [f"unchanged {ref}" for ref in self.unchanged]
        return out

    def summary(self) -> str:
        parts = [f"{len(self.new)} new", f"{len(self.updated)} updated",
                 f"{len(self.unchanged)} unchanged"]
        if self.kept:
            parts.append(f"{len(self.kept)} kept as edited in Anki")
        parts.append(f"{self.removed} no longer in the source (tagged {REMOVED_TAG})")
        if self.moved:
            parts.append(f"{self.moved} moved back to their decks")
        return ", ".join(parts)


# -- what is in Anki, compared with the deck -------------------------------------------------

def _plan(deck: Deck, in_anki: dict[str, dict[str, str]]) -> tuple[list, list, list]:
    """(new refs, [(ref, changed fields)], unchanged refs): the deck against the fields of
    its notes in Anki (by search id)."""
    new, updated, unchanged = [], [], []
    for card in deck.cards:
        have = in_anki.get(search_id(card.guid))
        if have is None:
            new.append(card.ref)
            continue
        # the question's number (Ref) is left out, as the package leaves it out of what
        # updates a note: renumbering alone changes nothing in Anki
        changed = [f for f, v in zip(FIELDS, fields_of(card))
                   if f not in POSITION_FIELDS and have.get(f) != v]
        (updated.append((card.ref, changed)) if changed else unchanged.append(card.ref))
    return new, updated, unchanged


def _search_ids(fields: dict[str, str]) -> list[str]:
    return _SEARCH_ID.findall(fields.get("Source", ""))


# -- a running Anki ---------------------------------------------------------------------------

class AnkiConnect:
    """The AnkiConnect API (version 6) at ``url``: one request at a time (Anki serves about
    40 a second), several actions in one request with :meth:`multi`."""

    def __init__(self, url: str = DEFAULT_URL, timeout: float = 60.0, key: str | None = None):
        self.url, self.timeout, self.key = url, timeout, key

    def call(self, action: str, **params: Any) -> Any:
        body: dict[str, Any] = {"action": action, "version": 6, "params": params}
        if self.key:
            body["key"] = self.key
        request = urllib.request.Request(self.url, json.dumps(body).encode(),
                                         {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                reply = json.loads(response.read())
        except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise PushError(f"no Anki answers at {self.url} ({reason}): start Anki with "
                            f"{ADDON}, or push into a closed collection with --collection "
                            "PATH") from exc
        except ValueError as exc:
            raise PushError(f"{self.url} does not answer as AnkiConnect does: is it "
                            f"{ADDON}?") from exc
        if not isinstance(reply, dict) or set(reply) != {"result", "error"}:
            raise PushError(f"{self.url} does not answer as AnkiConnect (API version 6) does")
        if reply["error"]:
            raise PushError(f"Anki refused {action}: {reply['error']}")
        return reply["result"]

    def multi(self, actions: list[dict[str, Any]]) -> list[Any]:
        results = self.call("multi", actions=actions)
        for action, result in zip(actions, results):
            if isinstance(result, dict) and result.get("error"):
                raise PushError(f"Anki refused {action['action']}: {result['error']}")
        return [r["result"] if isinstance(r, dict) and "result" in r else r for r in results]


class _Into(Protocol):
    """Where a push goes: what the shared flow (:func:`_push`) needs of a running Anki or a
    collection file."""

    def notes(self, ids: set[str]) -> dict[str, dict[str, Any]]:
        """search id -> {'id', 'fields', 'tags', 'cards'} of the notes with these ids."""
        ...

    def import_package(self, apkg: Path) -> None: ...

    def tag(self, notes: list[int], add: bool) -> None: ...

    def decks_of(self, cards: list[int]) -> dict[int, str]: ...

    def move(self, cards: list[int], deck: str) -> None: ...

    def done(self) -> None:
        """Send what was queued."""
        ...


def _push(deck: Deck, apkg: Path, removed_guids: list[str], into: _Into, move: bool,
          report: PushReport) -> PushReport:
    """The push, the same into a running Anki and into a file: read the notes, import the
    package, read them again (what changed, what Anki kept), tag what left the source and
    untag what came back, and list (or move back) cards in other decks."""
    current = {search_id(c.guid) for c in deck.cards}
    gone = {search_id(g) for g in removed_guids} - current
    new, updated, unchanged = _plan(deck, {k: v["fields"] for k, v in
                                           into.notes(current | gone).items()})
    into.import_package(apkg)
    after = into.notes(current | gone)
    missing = [c.ref for c in deck.cards if search_id(c.guid) not in after]
    if missing:
        raise PushError(f"Anki imported the package but {len(missing)} note(s) are not in "
                        f"it ({', '.join(missing[:5])}): is the collection's note type "
                        "'deckgen Basic' or 'deckgen Cloze' changed by hand?")
    still = dict(_plan(deck, {k: v["fields"] for k, v in after.items()})[1])
    report.new, report.unchanged = new, unchanged
    report.updated = [(ref, f) for ref, f in updated if ref not in still]
    report.kept = [ref for ref, _ in updated if ref in still]
    tagged = [after[s]["id"] for s in gone if s in after]
    if tagged:
        into.tag(tagged, True)
    back = [after[s]["id"] for s in current
            if REMOVED_TAG in (t.lower() for t in after[s]["tags"])]
    if back:
        into.tag(back, False)
    report.removed = len(tagged)
    decks = into.decks_of([cid for s in current for cid in after[s]["cards"]])
    for card in deck.cards:
        cards = after[search_id(card.guid)]["cards"]
        if any(decks.get(cid) != card.deck for cid in cards):
            report.elsewhere.append(card.ref)
            if move:
                into.move(cards, card.deck)
                report.moved += 1
    into.done()
    return report


def _notes_of(found: list[tuple[int, dict[str, str], list[str], list[int]]], ids: set[str]
              ) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for nid, fields, tags, cards in found:
        for sid in _search_ids(fields):
            if sid in ids:
                out[sid] = {"id": nid, "fields": fields, "tags": tags, "cards": cards}
    return out


class _Running:
    """A running Anki, through AnkiConnect; changes after the import go in one ``multi``."""

    def __init__(self, anki: AnkiConnect):
        self.anki = anki
        self.actions: list[dict[str, Any]] = []

    def notes(self, ids: set[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        found = self.anki.call("findNotes", query="Source:*dg-*")
        rows = []
        for start in range(0, len(found), 500):
            for note in self.anki.call("notesInfo", notes=found[start:start + 500]):
                if note:
                    rows.append((note["noteId"],
                                 {k: v["value"] for k, v in note["fields"].items()},
                                 note["tags"], note["cards"]))
        return _notes_of(rows, ids)

    def import_package(self, apkg: Path) -> None:
        self.anki.call("importPackage", path=str(apkg.resolve()))

    def tag(self, notes: list[int], add: bool) -> None:
        self.actions.append({"action": "addTags" if add else "removeTags",
                             "params": {"notes": notes, "tags": REMOVED_TAG}})

    def decks_of(self, cards: list[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        for start in range(0, len(cards), 500):
            for info in self.anki.call("cardsInfo", cards=cards[start:start + 500]):
                if info:
                    out[info["cardId"]] = info["deckName"]
        return out

    def move(self, cards: list[int], deck: str) -> None:
        self.actions.append({"action": "changeDeck", "params": {"cards": cards, "deck": deck}})

    def done(self) -> None:
        if self.actions:
            self.anki.multi(self.actions)


def push_connect(deck: Deck, apkg: Path, removed_guids: list[str], url: str = DEFAULT_URL,
                 move: bool = False, key: str | None = None) -> PushReport:
    """Import ``apkg`` (the build of ``deck``) into the Anki running at ``url``."""
    anki = AnkiConnect(url, key=key)
    version = anki.call("version")
    if not isinstance(version, int) or version < 6:
        raise PushError(f"AnkiConnect at {url} speaks API version {version}; deckgen needs 6 "
                        "(update the add-on)")
    report = PushReport()
    selected = anki.call("guiSelectedNotes")
    if selected:
        report.warnings.append(
            f"Anki's Browser is open with {len(selected)} note(s) selected: its editor keeps "
            "the copy it shows and writes it back if you edit that note; close the Browser "
            "and push again if you changed those notes")
    return _push(deck, apkg, removed_guids, _Running(anki), move, report)


# -- a closed collection file ---------------------------------------------------------------

class _File:
    """A collection file, opened with the ``anki`` package."""

    def __init__(self, col: Any):
        self.col = col

    def notes(self, ids: set[str]) -> dict[str, dict[str, Any]]:
        rows = []
        for nid in self.col.find_notes("Source:*dg-*"):
            note = self.col.get_note(nid)
            rows.append((nid, dict(note.items()), note.tags, list(note.card_ids())))
        return _notes_of(rows, ids)

    def import_package(self, apkg: Path) -> None:
        from anki import import_export_pb2 as iepb
        from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

        self.col.import_anki_package(ImportAnkiPackageRequest(  # File > Import's defaults
            package_path=str(apkg.resolve()),
            options=ImportAnkiPackageOptions(
                update_notes=iepb.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER,
                update_notetypes=iepb.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER,
                with_scheduling=False)))

    def tag(self, notes: list[int], add: bool) -> None:
        (self.col.tags.bulk_add if add else self.col.tags.bulk_remove)(notes, REMOVED_TAG)

    def decks_of(self, cards: list[int]) -> dict[int, str]:
        return {cid: self.col.decks.name(self.col.get_card(cid).did) for cid in cards}

    def move(self, cards: list[int], deck: str) -> None:
        self.col.set_deck(cards, int(self.col.decks.id(deck, create=True) or 0))

    def done(self) -> None:
        pass


def push_collection(deck: Deck, apkg: Path, removed_guids: list[str], path: Path,
                    move: bool = False) -> PushReport:
    """Import ``apkg`` into the collection file at ``path`` (Anki must not have it open),
    with Anki's default import options, after backing it up."""
    try:
        from anki.collection import Collection
        from anki.errors import DBError
    except ImportError as exc:
        raise PushError("pushing into a collection file needs the 'anki' package: pip install "
                        "anki (or push into a running Anki through AnkiConnect)") from exc
    if not path.is_file():
        raise PushError(f"no Anki collection at {path} (it is collection.anki2 in your Anki "
                        "profile's folder)")
    try:
        col = Collection(str(path))
    except DBError as exc:
        raise PushError(f"{path} is open in Anki (or syncing media): close Anki and push "
                        "again, or push into the running Anki without --collection") from exc
    except Exception as exc:  # noqa: BLE001 (the backend's errors are many; say which file)
        raise PushError(f"cannot open {path} as an Anki collection: {exc}") from exc
    try:
        backups = path.parent / "backups"
        backups.mkdir(exist_ok=True)
        if not col.create_backup(backup_folder=str(backups), force=True,
                                 wait_for_completion=True):
            raise PushError(f"could not back up {path} into {backups}; nothing was pushed")
        return _push(deck, apkg, removed_guids, _File(col), move, PushReport())
    finally:
        col.close()
