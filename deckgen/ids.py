"""Stable identities: note GUIDs and the fixed ids of deckgen's note types and decks."""

from __future__ import annotations

import hashlib

# Note-type ids are part of the released format: never change them, and never rename, add,
# remove or reorder the fields or templates of a released note type (ANKI-FACTS.md).
BASIC_MODEL_ID = 1_733_080_401
CLOZE_MODEL_ID = 1_733_080_402


def _hash_int(*parts: str) -> int:
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def note_guid(bank_name: str, key: str) -> str:
    """A note's GUID from its question's identity (bank file name + question/part key).

    Content never enters it, so fixing a typo or recomputing a number updates the note that
    people already study instead of creating a new one.
    """
    value = _hash_int("deckgen-note", bank_name, key)
    # Anki's own GUIDs are base91; any printable string without spaces works.
    alphabet = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                "!#$%&()*+,-./:;<=>?@[]^_`{|}~")
    out = []
    while value:
        value, rem = divmod(value, len(alphabet))
        out.append(alphabet[rem])
    return "".join(reversed(out)) or "0"


def deck_id(name: str) -> int:
    """Anki matches decks by name; the id only needs to be stable and in range."""
    return (1 << 30) + _hash_int("deckgen-deck", name) % (1 << 30)
