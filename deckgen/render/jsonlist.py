"""Deck -> JSON card list for tooling (format documented in docs/JSON.md)."""

from __future__ import annotations

import json
from deckgen.errors import Diagnostic, Location
from deckgen.model import Deck
from deckgen.render import Report, Target
from deckgen.render.html import field_html

FORMAT_VERSION = 1


def deck_to_json(deck: Deck) -> dict:
    return {
        "format": "deckgen-cards",
        "version": FORMAT_VERSION,
        "deck": deck.name,
        "cards": [
            {
                "guid": c.guid,
                "ref": c.ref,
                "key": c.key,
                "question": c.number,
                "part": c.part,
                "kind": c.kind.value,
                "section": c.section,
                "deck": c.deck,
                "source": {"file": deck.source_path(c.loc.path), "line": c.loc.line},
                "context": field_html(c.context),
                "front": field_html(c.front),
                "back": field_html(c.back),
                "tags": list(c.tags),
                "media": list(c.media),
                "answered": c.answered,
            }
            for c in deck.cards
        ],
    }


class JsonRenderer:
    def check(self, settings: dict, where: Location | None) -> list[Diagnostic]:
        return []

    def render(self, deck: Deck, target: Target) -> Report:
        path = target.path(".json")
        text = json.dumps(deck_to_json(deck), ensure_ascii=False, indent=1) + "\n"
        target.staging.stage_bytes(path, text.encode("utf-8"))
        return Report([path])
