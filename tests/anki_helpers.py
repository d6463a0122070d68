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


def review_all(col: Collection, deck: str = "T") -> None:
    """Answer every card of ``deck`` and its subdecks once (Easy), creating review history."""
    from anki.scheduler.v3 import CardAnswer  # after anki.collection (import cycle)

    top = col.decks.id(deck)
    col.decks.select(top)  # the queue comes from the current deck and its subdecks
    conf = col.decks.config_dict_for_deck_id(top)
    conf["new"]["perDay"] = 9999
    conf["rev"]["perDay"] = 9999
    col.decks.save(conf)
    while True:
        queued = col.sched.get_queued_cards(fetch_limit=1)
        if not queued.cards:
            return
        item = queued.cards[0]
        card = col.get_card(item.card.id)
        card.start_timer()
        col.sched.answer_card(col.sched.build_answer(card=card, states=item.states,
                                                     rating=CardAnswer.EASY))


def snapshot(col: Collection) -> dict[str, dict]:
    """Per note GUID: its fields, mtime, deck, and per card: id, interval, revlog count."""
    out = {}
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        cards = []
        for card in note.cards():
            revlog = col.db.scalar("select count() from revlog where cid = ?", card.id)
            cards.append((card.id, card.ivl, card.type, revlog))
        out[note.guid] = {"fields": dict(note.items()), "mod": note.mod, "cards": cards,
                          "deck": col.decks.name(note.cards()[0].did)}
    return out
