"""Import packages into a real Anki collection (the `anki` package) and read what Anki sees."""

from __future__ import annotations

from pathlib import Path

from anki import import_export_pb2 as iepb
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

TEMPLATE_ERRORS = ("has a problem", "The front of this card is blank", "No cloze",
                   "unknown field", "Field not found")


def new_collection(tmp: Path) -> Collection:
    return Collection(str(tmp / "collection.anki2"))


def import_apkg(col: Collection, apkg: Path):
    """Import with Anki's default options ("update if newer"); returns the import log."""
    resp = col.import_anki_package(ImportAnkiPackageRequest(
        package_path=str(apkg),
        options=ImportAnkiPackageOptions(
            update_notes=iepb.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER,
            update_notetypes=iepb.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER,
            with_scheduling=False)))
    col.models._clear_cache()
    return resp.log


def notes_by_ref(col: Collection) -> dict[str, object]:
    return {col.get_note(nid)["Ref"]: col.get_note(nid) for nid in col.find_notes("")}


def render_problems(col: Collection) -> list[str]:
    problems = []
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        q, a = card.question(), card.answer()
        for text in TEMPLATE_ERRORS:
            if text in q or text in a:
                problems.append(f"{card.note()['Ref']} card {card.ord}: {text}")
    return problems
