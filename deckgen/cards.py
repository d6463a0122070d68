"""Bank with answers (and cell results) -> Deck of cards whose sides are content
(``deckgen.content``): what each part asks and answers, for every output to render."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deckgen import content as c
from deckgen import shapes
from deckgen.compose import ComposeContext, Outputs, compose, compose_inline, mark_blanks
from deckgen.errors import Diagnostic, Location, Severity
from deckgen.ids import note_guid
from deckgen.media import MediaStore
from deckgen.model import Answer, Bank, Block, Card, Choice, Deck, Figure, Kind, Part, Question

Results = dict[tuple[str, int], list[dict[str, Any]]]
"""(bank path, question number) -> one result per cell/inline expression, in order."""


@dataclass
class _Builder:
    bank: Bank
    deck_name: str
    media: MediaStore
    diagnostics: list[Diagnostic]
    guids: dict[tuple[str, str], str]
    subdecks: dict[str, str] = field(default_factory=dict)
    """Section -> its subdeck's name (as given to Anki) when it differs from the section."""
    ref_prefix: str = ""
    """In a bank of several question files, the file's name before each reference."""
    _contexts: dict[int, c.Content] = field(default_factory=dict)

    def ctx(self, loc: Location, outputs: Outputs | None = None) -> ComposeContext:
        return ComposeContext(self.media, Path(self.bank.path).parent, loc, outputs,
                             self.diagnostics)

    def blocks(self, blocks: tuple[Block, ...], counter: list[int] | None = None
               ) -> c.Content:
        """Question blocks as content; with ``counter``, blanks become numbered Blanks."""
        out: list[c.Node] = []
        for block in blocks:
            if isinstance(block, Figure):
                out.append(self.figure(block))
                continue
            text = block.markdown
            if counter is not None:
                text = mark_blanks(text, counter)
            out.extend(compose(text, self.ctx(block.loc)))
        return tuple(out)

    def context(self, q: Question) -> c.Content:
        """The stem, rendered once per question however many parts share it."""
        if q.number not in self._contexts:
            self._contexts[q.number] = _fold_if_long(self.blocks(q.stem))
        return self._contexts[q.number]

    def earlier(self, q: Question, part: Part) -> c.Content:
        """What a question or part that refers back ("Further to the above", "Repeat the
        above", "Still referring to ...") refers to, as a block for the top of the card: a
        later part's previous part, else the previous question's stem (its whole text when
        it has no parts). Empty when it does not refer back, or nothing is before it."""
        i = q.parts.index(part)
        if part.label and i > 0 and refers_back(part.body):
            return _earlier_block("The part before", self.blocks(q.parts[i - 1].body))
        if not (refers_back(q.stem) or (part.label and i == 0 and refers_back(part.body))):
            return ()
        numbers = [x.number for x in self.bank.questions]
        at = numbers.index(q.number)
        if at == 0:
            return ()
        prev = self.bank.questions[at - 1]
        blocks = prev.stem or tuple(b for p in prev.parts for b in p.body)
        return _earlier_block("The question before", self.blocks(blocks))

    def figure(self, fig: Figure) -> c.Figure:
        name = self.media.image(fig.src, Path(self.bank.path).parent, fig.loc)
        self.diagnostics.extend(self.media.diagnostics)
        self.media.diagnostics.clear()
        return c.Figure(name, fig.alt, fig.caption)

    def choices(self, choices: tuple[Choice, ...], correct: set[int] | None = None
                ) -> c.Choices:
        return c.Choices(tuple(
            c.Choice(compose_inline(choice.markdown.replace("\n", " "), self.ctx(choice.loc)),
                     None if correct is None else choice.number in correct)
            for choice in choices))

    def card(self, q: Question, part: Part, outputs: Outputs) -> Card:
        key = q.key(part)
        ref = f"{self.ref_prefix}Q{key}"
        cloze = part.kind is Kind.CLOZE
        counter = [0] if cloze else None
        if part.label:
            context = self.context(q)
            front = self.blocks(part.body, counter)
        else:
            context = ()
            front = self.blocks(q.stem, counter)
        context = self.earlier(q, part) + context
        answer = part.answer
        back: c.Content = ()
        if answer is None:
            back = (c.Unanswered(key),)
            if cloze:
                front = c.replace_blanks(front, [])
            if part.kind is Kind.CHOICE:
                front += (self.choices(part.choices),)
        elif part.kind is Kind.CHOICE:
            correct, rest, problems = shapes.correct_options(part, answer, key)
            self.diagnostics.extend(problems)
            front += (self.choices(part.choices),)
            back = (self.choices(part.choices, correct), *self.answer(rest, answer, outputs))
        elif cloze:
            fills, rest = self.cloze_fills(part, answer, key, outputs)
            front = c.replace_blanks(front, fills)
            back = self.answer(rest, answer, outputs)
        else:
            back = self.answer(answer.markdown, answer, outputs)
            if part.kind is Kind.TRUEFALSE:
                verdict, problems = shapes.truefalse_verdict(part, answer, key)
                if verdict is not None:
                    back = (c.Verdict(verdict, back),)
                self.diagnostics.extend(problems)
        section = q.section or ""
        subdeck = self.subdecks.get(section, section).replace("::", ":")
        deck = f"{self.deck_name}::{subdeck}" if section else self.deck_name
        tags = ["deckgen", f"section::{_tag(section or 'none')}", f"kind::{part.kind.value}",
                f"q::{q.number}"]
        if answer is None:
            tags.append("deckgen::unanswered")
        media = tuple(c.media_of(context + front + back))
        guid = self.guids.get((self.bank.path, key)) or note_guid(Path(self.bank.path).name, key)
        return Card(guid, ref, key, q.number, part.label,
                    part.kind, section, deck, part.loc, context, front, back, tuple(tags), media,
                    answer is not None)

    def answer(self, markdown: str, answer: Answer, outputs: Outputs) -> c.Content:
        return compose(markdown, self.ctx(answer.loc, outputs))

    def cloze_fills(self, part: Part, answer: Answer, key: str,
                    outputs: Outputs) -> tuple[list[c.Content], str]:
        """The answer's leading ordered list gives the fills; the rest is the explanation."""
        spans, rest, problems = shapes.cloze_fill_spans(part, answer, key)
        fills = [compose_inline(span, self.ctx(answer.loc, outputs)) for span in spans]
        self.diagnostics.extend(problems)  # after the fills' own (e.g. media) diagnostics
        return fills, rest


def numbered_subdecks(banks: list[Bank]) -> dict[str, str]:
    """Section -> "01 Section": its position among the banks' sections that hold questions,
    zero-padded to two digits (or more for 100 sections and beyond)."""
    order = list(dict.fromkeys(q.section for bank in banks for q in bank.questions
                               if q.section and q.parts))
    width = max(2, len(str(len(order))))
    return {s: f"{i:0{width}d} {s}" for i, s in enumerate(order, 1)}


_REFERS_BACK = re.compile(
    r"^\W*(further to the (above|previous)|repeat the (above|previous)|still referring|"
    r"(again )?referring (again )?to the (above|previous)|(continuing|following) (from |on )?"
    r"the (above|previous)|(as|same as) (in |for )?the (above|previous)|in the (above|previous) "
    r"question|using the (same|above|previous) )", re.IGNORECASE)
"""How a question says it continues the one before it."""


def refers_back(blocks: tuple[Block, ...]) -> bool:
    """Whether these blocks (a stem, a part) start by referring to what came before."""
    first = next((b for b in blocks if not isinstance(b, Figure)), None)
    return first is not None and bool(_REFERS_BACK.match(getattr(first, "markdown", "")))


def _earlier_block(what: str, content: c.Content) -> c.Content:
    # no number in it: numbers are positions, and renumbering the bank must not change a
    # note's content (deckgen.render.anki leaves them out of what decides an update)
    if not content:
        return ()
    return (c.Details("earlier", f"{what}, which this continues", content),)


LONG_CONTEXT_LINES = 24
"""A context taller than this many lines of a phone's screen (400 px) can fold away."""


def _phone_lines(content: c.Content) -> int:
    """About how many lines this content takes at phone width: 40 characters of prose a
    line, each line of code or output a line (and one for a code block's margins), a figure
    ten."""
    prose = lines = 0
    for node in c.walk(content):  # (characters as the card's HTML has them: "&" is "&amp;")
        if isinstance(node, c.Text | c.Value):
            prose += len(html.escape(node.text, quote=False))
        elif isinstance(node, c.Code):
            prose += len(html.escape(node.code, quote=False))
        elif isinstance(node, c.Math):
            prose += len(html.escape(node.tex.strip(), quote=False)) + 4
        elif isinstance(node, c.CodeBlock | c.Cell) and node.code is not None:
            lines += node.code.strip("\n").count("\n") + 2  # its lines, and a margin
        elif isinstance(node, c.Output) and (text := node.get("text/plain")) is not None \
                and not any(m.startswith("image/") for m, _ in node.data):
            lines += text.count("\n") + 1
        if isinstance(node, c.Figure | c.Output) or \
                (isinstance(node, c.Element) and node.tag == "img"):
            lines += 10 * len(c.media_of((node,)))
    return prose // 40 + lines


def _fold_if_long(content: c.Content) -> c.Content:
    # open on both sides: the question needs it, and a tap on its summary folds it away
    if _phone_lines(content) <= LONG_CONTEXT_LINES:
        return content
    return (c.Details("fold", "Context", content),)


def _tag(text: str) -> str:
    return re.sub(r"[^\w:-]+", "_", text).strip("_") or "none"


def build_deck(banks: list[Bank], deck_name: str, results: Results, media: MediaStore,
               guids: dict[tuple[str, str], str] | None = None, *,
               subdeck_numbers: bool = False) -> tuple[Deck, list[Diagnostic]]:
    """Every part of every question becomes one card; ``guids`` come from the lock file.

    With ``subdeck_numbers``, subdeck names start with the section's position in the bank.
    """
    diagnostics: list[Diagnostic] = []
    cards: list[Card] = []
    subdecks = numbered_subdecks(banks) if subdeck_numbers else {}
    for bank in banks:
        prefix = re.sub(r"[^\w.-]+", "_", Path(bank.path).stem) + " " if len(banks) > 1 else ""
        builder = _Builder(bank, deck_name, media, diagnostics, guids or {}, subdecks, prefix)
        for q in bank.questions:
            items = results.get((bank.path, q.number), [])
            position = 0
            for part in q.parts:
                cells = list(part.answer.cells) if part.answer else []
                outputs = Outputs(items[position:position + len(cells)], cells, q.key(part))
                position += len(cells)
                cards.append(builder.card(q, part, outputs))
                if outputs.mismatched and part.answer is not None:
                    diagnostics.append(Diagnostic(
                        part.answer.loc, f"Q{q.key(part)}: the output of a cell "
                        f"({outputs.mismatched[0]!r}) could not be matched to its code and is "
                        "not shown; please report this with the answer's text",
                        "cell-mismatch", Severity.WARNING))
    used = {name for card in cards for name in card.media}
    return Deck(deck_name, tuple(cards), {n: media.files[n] for n in sorted(used)},
                banks[0].root if banks else ""), diagnostics
