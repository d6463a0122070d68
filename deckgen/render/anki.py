"""Deck -> Anki package (.apkg) with fixed note-type ids, stable GUIDs and honest mtimes.

A note's modification time changes only when its content does, as Anki sees it: the position
labels (the Ref field ``Q12.3``, the ``q::12`` tag, the key an unanswered card names) are left
out of the hash that decides it, so renumbering the bank updates no note; the new labels reach
Anki with the note's next real change. New cards enter Anki in the bank's order.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import tempfile
import time
from pathlib import Path

import genanki
from pygments.formatters import HtmlFormatter

from deckgen import templates, trustcache
from deckgen.atomic import Staging
from deckgen.content import Unanswered
from deckgen.identity import search_id
from deckgen.ids import BASIC_MODEL_ID, CLOZE_MODEL_ID, deck_id
from deckgen.errors import Diagnostic, Location
from deckgen.model import Card, Deck, Kind
from deckgen.render import Report, Target
from deckgen.render.html import field_html

# Released field lists: never rename, add, remove or reorder (see ANKI-FACTS.md).
FIELDS = ["Front", "Back", "Context", "Extra", "Ref", "Kind", "Source"]
SORT_FIELD = FIELDS.index("Ref")
POSITION_FIELDS = ("Ref",)
"""Fields that follow the question's number, not its content: left out of the content hash."""
POSITION_TAG = "q::"
"""The tag that carries the question's number (``q::12``): left out of the content hash."""


CODE_BACKGROUND = {"light": "#f6f7f9", "night": "#1f2024"}
"""The code boxes' backgrounds (style.css has the light one too)."""
MIN_CONTRAST = 4.6
"""Every code token's colour against its box: WCAG AA (4.5:1), with a little to spare."""


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG contrast ratio of two sRGB colours."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def readable(colour: str, background: str, ratio: float = MIN_CONTRAST) -> str:
    """``colour``, moved toward black (on a light background) or white (on a dark one) just
    far enough to reach ``ratio`` against ``background``; unchanged if it already does."""
    fg, bg = _rgb(colour), _rgb(background)
    if contrast(fg, bg) >= ratio:
        return colour
    target = (0, 0, 0) if _luminance(bg) > 0.18 else (255, 255, 255)
    for step in range(1, 101):
        t = step / 100
        mixed = tuple(round(f + (g - f) * t) for f, g in zip(fg, target))
        if contrast(mixed, bg) >= ratio:  # type: ignore[arg-type]
            return "#%02x%02x%02x" % mixed
    return "#%02x%02x%02x" % target


def _code_css(style: str, scope: str, background: str) -> str:
    css = HtmlFormatter(style=style).get_style_defs(scope)
    return re.sub(r"(?<![-\w])color: (#[0-9a-fA-F]{3,6})\b",
                  lambda m: f"color: {readable(m.group(1), background)}", css)


def note_type_css(override: Path | None) -> str:
    light = _code_css("friendly", ".card .highlight", CODE_BACKGROUND["light"])
    dark = _code_css("monokai", ".card.nightMode .highlight", CODE_BACKGROUND["night"])
    return "\n".join([templates.load("anki/style.css", override), "/* code: light */", light,
                      "/* code: night mode */", dark, "/* the backgrounds the colours were "
                      "checked against */",
                      f".card .highlight {{ background: {CODE_BACKGROUND['light']}; }}",
                      f".card.nightMode .highlight {{ background: {CODE_BACKGROUND['night']}; }}"])


def models(override: Path | None, own: dict[str, int] | None = None,
           deck_name: str = "") -> tuple[genanki.Model, genanki.Model]:
    """deckgen's two note types. A bank with its own templates (``own``: the ids its lock
    file keeps) gets note types of its own, so its restyling never changes the cards of
    another deckgen deck, while restyling it again still updates its notes in place."""
    css = note_type_css(override)
    # the script that fits wide formulas to the card, once for both front templates
    fit = templates.load("anki/fit.html", override)
    fields = [{"name": f} for f in FIELDS]
    basic_id, cloze_id, suffix = BASIC_MODEL_ID, CLOZE_MODEL_ID, ""
    if own:
        basic_id, cloze_id, suffix = own["basic"], own["cloze"], f" ({deck_name})"
    basic = genanki.Model(
        basic_id, "deckgen Basic" + suffix, fields=fields,
        templates=[{"name": "Card", "qfmt": templates.load("anki/front.html", override) + fit,
                    "afmt": templates.load("anki/back.html", override)}],
        css=css, sort_field_index=SORT_FIELD)
    cloze = genanki.Model(
        cloze_id, "deckgen Cloze" + suffix, fields=fields,
        templates=[{"name": "Cloze", "qfmt": templates.load("anki/cloze_front.html", override)
                    + fit,
                    "afmt": templates.load("anki/cloze_back.html", override)}],
        css=css, model_type=genanki.Model.CLOZE, sort_field_index=SORT_FIELD)
    return basic, cloze


class _Note(genanki.Note):
    """A note that carries its own modification time instead of the package's."""

    def __init__(self, mtime: int, **kwargs):
        super().__init__(**kwargs)
        self.mtime = mtime

    def write_to_db(self, cursor, timestamp, deck_id, id_gen):  # noqa: D102 (genanki API)
        super().write_to_db(cursor, self.mtime, deck_id, id_gen)


def fields_of(card: Card) -> list[str]:
    # Only what stays put when questions are inserted, removed or moved: the question file's
    # name (no directory, no line; the JSON card list and `deckgen list` give file:line) and
    # the search id that lets `deckgen diff` and build reports give a query finding the note.
    # (a file name is shown as text: no Anki tag like [sound:...] and no {{...}} in it)
    name = html.escape(Path(card.loc.path).name).replace("[", "&#91;").replace("{", "&#123;")
    source = f'{name} <span class="search-id">{search_id(card.guid)}</span>'
    values = {"Front": field_html(card.front), "Back": field_html(card.back),
              "Context": field_html(card.context), "Extra": "",
              "Ref": card.ref, "Kind": card.kind.value, "Source": source}
    return [_CONTROL.sub("", values[f]) for f in FIELDS]


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters, \x1f (Anki's field separator) among them: never in a field."""


def content_hash(fields: list[str], tags: tuple[str, ...], model_id: int, deck: str) -> str:
    h = hashlib.sha256()
    for part in [*fields, " ".join(tags), str(model_id), deck]:
        h.update(part.encode())
        h.update(b"\x1f")
    return h.hexdigest()


def note_digest(card: Card, fields: list[str], model_id: int) -> str:
    """The hash that decides whether a note's modification time moves: its content as Anki
    sees it, without the position labels (Ref, the ``q::`` tag, the key an unanswered card
    names), and with the section rather than the deck name (Anki never moves an imported card
    to another deck, so a renamed or renumbered subdeck changes nothing in the collection)."""
    values = dict(zip(FIELDS, fields))
    for name in POSITION_FIELDS:
        values[name] = ""
    if not card.answered and card.back == (Unanswered(card.key),):
        values["Back"] = field_html((Unanswered(""),))
    tags = tuple(t for t in card.tags if not t.startswith(POSITION_TAG))
    return content_hash([values[f] for f in FIELDS], tags, model_id, card.section)


def card_digest(card: Card) -> str:
    """:func:`note_digest` of a card's note as the renderer builds it (e.g. for a preview of
    what Anki will update: a note updates when this differs from the one in the state)."""
    model_id = CLOZE_MODEL_ID if card.kind is Kind.CLOZE else BASIC_MODEL_ID
    return note_digest(card, fields_of(card), model_id)


def state_path(apkg: Path) -> Path:
    """Where the digests and mtimes of a package's notes are kept between builds."""
    return apkg.with_name(f".{apkg.name}.state")


def deck_description(deck: Deck, cards: int) -> str:
    """The parent deck's default description: where the deck comes from and its size."""
    files = ", ".join(dict.fromkeys(Path(c.loc.path).name for c in deck.cards))
    questions = len({(c.loc.path, c.section, c.number) for c in deck.cards})
    return html.escape(f"Built by deckgen from {files or 'nothing'}: "
                       f"{_count(questions, 'question')}, {_count(cards, 'card')}.")


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class MtimeState:
    """Per GUID, the content hash and the time it last changed (``build/.<deck>.apkg.state``).

    Unchanged notes keep their old mtime (Anki leaves them alone); changed notes get a newer one
    (Anki's default "update if newer" applies the change).

    The file is data that may have come with a bank: each entry must be ``[digest, stamp]``
    (64 hex digits, a whole number of seconds no later than a day from now), or it is left
    out as if the note were new; a file that is not such a map, or absurdly big, is no state.
    """

    MAX_BYTES = 64 * 1024 * 1024
    DIGEST = re.compile(r"[0-9a-f]{64}")
    FUTURE = 24 * 3600
    """How far ahead of the clock a stored stamp may be (clock skew) before it is absurd."""

    def __init__(self, path: Path):
        self.path = path
        self.now = int(time.time())
        self.data: dict[str, list] = self._entries(trustcache.read_json(path, self.MAX_BYTES),
                                                   self.now + self.FUTURE)
        self.new: dict[str, list] = {}

    @staticmethod
    def _entries(raw: object, latest: int) -> dict[str, list]:
        if not isinstance(raw, dict):
            return {}
        return {key: [value[0], value[1]] for key, value in raw.items()
                if isinstance(value, list) and len(value) == 2 and
                isinstance(value[0], str) and MtimeState.DIGEST.fullmatch(value[0]) is not None and
                type(value[1]) is int and 0 <= value[1] <= latest}

    def mtime(self, key: str, digest: str) -> int:
        old = self.data.get(key)
        if old and old[0] == digest:
            self.new[key] = old
            return int(old[1])
        stamp = max(self.now, int(old[1]) + 1) if old else self.now
        self.new[key] = [digest, stamp]
        return stamp

    def save(self, staging: Staging) -> None:
        merged = {**self.data, **self.new}
        staging.stage_bytes(self.path, json.dumps(merged, sort_keys=True, indent=0).encode())


class AnkiRenderer:
    def check(self, settings: dict, where: Location | None) -> list[Diagnostic]:
        return []

    def render(self, deck: Deck, target: Target) -> Report:
        path = target.path(".apkg")
        staging = target.staging
        basic, cloze = models(target.templates, target.note_types, deck.name)
        state = MtimeState(state_path(path))
        model_digest = hashlib.sha256(json.dumps(
            [basic.templates, cloze.templates, basic.css]).encode()).hexdigest()
        model_mtime = state.mtime("note-types", model_digest)
        parent = genanki.Deck(deck_id(deck.name), deck.name)
        decks: dict[str, genanki.Deck] = {deck.name: parent}
        anki_cards = 0
        for position, card in enumerate(deck.cards):
            model = cloze if card.kind is Kind.CLOZE else basic
            fields = fields_of(card)
            mtime = state.mtime(card.guid, note_digest(card, fields, model.model_id))
            subdeck = decks.setdefault(card.deck, genanki.Deck(deck_id(card.deck), card.deck))
            # due: a new card's position. Anki's importer keeps it as given (it never
            # renumbers, and leaves the cards it already has where they are), so new cards
            # are introduced in the bank's order.
            note = _Note(mtime, model=model, fields=fields, tags=list(card.tags),
                         guid=card.guid, sort_field=card.ref, due=position)
            subdeck.add_note(note)
            anki_cards += len(note.cards)
        description = target.description
        parent.description = html.escape(description) if description else \
            deck_description(deck, anki_cards)
        stamp = max([model_mtime, *(v[1] for v in state.new.values())])
        with tempfile.TemporaryDirectory(prefix="deckgen-media-") as tmp:
            media_paths = []
            for name, data in sorted(deck.media.items()):
                p = Path(tmp) / name
                p.write_bytes(data)
                media_paths.append(str(p))
            package = genanki.Package(list(decks.values()), media_files=media_paths)
            staging.stage(path, lambda t: _write_reproducibly(package, t, stamp))
        state.save(staging)
        return Report([path])


def _write_reproducibly(package: genanki.Package, target: Path, stamp: int) -> None:
    """genanki's zip carries the write time; rewrite it with fixed entry dates."""
    import zipfile

    package.write_to_file(str(target), timestamp=stamp)
    with zipfile.ZipFile(target) as src:
        entries = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, data)
