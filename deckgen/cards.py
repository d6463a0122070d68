"""Bank with answers (and cell results) -> Deck of cards with HTML fields."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deckgen import shapes
from deckgen.errors import Diagnostic, Location, Severity
from deckgen.ids import note_guid
from deckgen.media import MediaStore
from deckgen.model import Answer, Bank, Block, Card, Choice, Deck, Figure, Kind, Part, Question
from deckgen.parse import BLANK
from deckgen.render.html import (Outputs, RenderContext, attribute_html, fill_blanks,
                                 render_inline, render_markdown, text_html)

_MEDIA_REF = re.compile(r'src="(deckgen-[0-9a-f]+\.\w+)"')
# "`[...]`" and "$[...]$" are whole-span blanks: the deletion replaces the span itself.
_SPAN_BLANK = re.compile(r"`\[(?:\.\.\.|…)\]`|\$\[(?:\.\.\.|…)\]\$")

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
    _contexts: dict[int, str] = field(default_factory=dict)

    def ctx(self, loc: Location, outputs: Outputs | None = None) -> RenderContext:
        return RenderContext(self.media, Path(self.bank.path).parent, loc, outputs,
                             self.diagnostics)

    def blocks(self, blocks: tuple[Block, ...], counter: list[int] | None = None) -> str:
        """Render question blocks; with ``counter``, blanks become numbered placeholders."""
        out = []
        for block in blocks:
            if isinstance(block, Figure):
                out.append(self.figure(block))
                continue
            text = block.markdown
            if counter is not None:
                text = _mark_blanks(text, counter)
            out.append(render_markdown(text, self.ctx(block.loc)))
        return "".join(out)

    def context(self, q: Question) -> str:
        """The stem, rendered once per question however many parts share it."""
        if q.number not in self._contexts:
            self._contexts[q.number] = _fold_if_long(self.blocks(q.stem))
        return self._contexts[q.number]

    def earlier(self, q: Question, part: Part) -> str:
        """What a question or part that refers back ("Further to the above", "Repeat the
        above", "Still referring to ...") refers to, as a block for the top of the card: a
        later part's previous part, else the previous question's stem (its whole text when
        it has no parts). Empty when it does not refer back, or nothing is before it."""
        i = q.parts.index(part)
        if part.label and i > 0 and refers_back(part.body):
            return _earlier_block("The part before", self.blocks(q.parts[i - 1].body))
        if not (refers_back(q.stem) or (part.label and i == 0 and refers_back(part.body))):
            return ""
        numbers = [x.number for x in self.bank.questions]
        at = numbers.index(q.number)
        if at == 0:
            return ""
        prev = self.bank.questions[at - 1]
        blocks = prev.stem or tuple(b for p in prev.parts for b in p.body)
        return _earlier_block("The question before", self.blocks(blocks))

    def figure(self, fig: Figure) -> str:
        name = self.media.image(fig.src, Path(self.bank.path).parent, fig.loc)
        self.diagnostics.extend(self.media.diagnostics)
        self.media.diagnostics.clear()
        if name is None:
            return f'<div class="figure missing">[{text_html(fig.caption or fig.alt)}]</div>'
        alt = attribute_html(fig.alt or fig.caption)
        cap = f"<figcaption>{text_html(fig.caption)}</figcaption>" if fig.caption else ""
        return f'<figure class="figure"><img src="{name}" alt="{alt}">{cap}</figure>'

    def choices(self, choices: tuple[Choice, ...], correct: set[int] | None = None) -> str:
        items = []
        for c in choices:
            text = render_inline(c.markdown.replace("\n", " "), self.ctx(c.loc))
            cls = ""
            if correct is not None:
                cls = ' class="correct"' if c.number in correct else ' class="wrong"'
            items.append(f"<li{cls}>{text}</li>")
        # the question's own list is "ask": the answer side shows the marked list instead
        kind = "choices" if correct is not None else "choices ask"
        return f'<ol class="{kind}">{"".join(items)}</ol>'

    def card(self, q: Question, part: Part, outputs: Outputs) -> Card:
        key = q.key(part)
        ref = f"{self.ref_prefix}Q{key}"
        cloze = part.kind is Kind.CLOZE
        counter = [0] if cloze else None
        if part.label:
            context = self.context(q)
            front = self.blocks(part.body, counter)
        else:
            context = ""
            front = self.blocks(q.stem, counter)
        context = self.earlier(q, part) + context
        answer = part.answer
        back = ""
        if answer is None:
            back = unanswered_back(key)
            if cloze:
                front = fill_blanks(front, [])
            if part.kind is Kind.CHOICE:
                front += self.choices(part.choices)
        elif part.kind is Kind.CHOICE:
            correct, rest, problems = shapes.correct_options(part, answer, key)
            self.diagnostics.extend(problems)
            front += self.choices(part.choices)
            back = self.choices(part.choices, correct) + self.answer_html(rest, answer, outputs)
        elif cloze:
            fills, rest = self.cloze_fills(part, answer, key, outputs)
            front = fill_blanks(front, fills)
            back = self.answer_html(rest, answer, outputs)
        else:
            back = self.answer_html(answer.markdown, answer, outputs)
            if part.kind is Kind.TRUEFALSE:
                verdict, problems = shapes.truefalse_verdict(part, answer, key)
                if verdict is not None:
                    back = f'<div class="verdict {verdict}">{back}</div>'
                self.diagnostics.extend(problems)
        section = q.section or ""
        subdeck = self.subdecks.get(section, section).replace("::", ":")
        deck = f"{self.deck_name}::{subdeck}" if section else self.deck_name
        tags = ["deckgen", f"section::{_tag(section or 'none')}", f"kind::{part.kind.value}",
                f"q::{q.number}"]
        if answer is None:
            tags.append("deckgen::unanswered")
        fields = context + front + back
        media = tuple(dict.fromkeys(_MEDIA_REF.findall(fields)))
        guid = self.guids.get((self.bank.path, key)) or note_guid(Path(self.bank.path).name, key)
        return Card(guid, ref, key, q.number, part.label,
                    part.kind, section, deck, part.loc, context, front, back, tuple(tags), media,
                    answer is not None)

    def answer_html(self, markdown: str, answer: Answer, outputs: Outputs) -> str:
        return render_markdown(markdown, self.ctx(answer.loc, outputs))

    def cloze_fills(self, part: Part, answer: Answer, key: str,
                    outputs: Outputs) -> tuple[list[str], str]:
        """The answer's leading ordered list gives the fills; the rest is the explanation."""
        spans, rest, problems = shapes.cloze_fill_spans(part, answer, key)
        fills = [render_inline(span, self.ctx(answer.loc, outputs)) for span in spans]
        self.diagnostics.extend(problems)  # after the fills' own (e.g. media) diagnostics
        return fills, rest


def _mark_blanks(text: str, counter: list[int]) -> str:
    def mark(_: re.Match[str]) -> str:
        counter[0] += 1
        return f"\ue000{counter[0]}\ue001"
    text = _SPAN_BLANK.sub(lambda m: ("`" if m.group(0)[0] == "`" else "")
                           + mark(m) + ("`" if m.group(0)[0] == "`" else ""), text)
    return BLANK.sub(mark, text)


def unanswered_back(key: str) -> str:
    """The back of a card without an answer: it names the answers-file key to add."""
    return (f'<div class="unanswered">No answer yet: write it under the question, or add '
            f"<code>## {key}</code> to the answers file.</div>")


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


def _earlier_block(what: str, html: str) -> str:
    # no number in it: numbers are positions, and renumbering the bank must not change a
    # note's content (deckgen.render.anki leaves them out of what decides an update)
    if not html:
        return ""
    return (f'<details class="earlier" open><summary>{what}, which this continues</summary>'
            f"{html}</details>")


LONG_CONTEXT_LINES = 24
"""A context taller than this many lines of a phone's screen (400 px) can fold away."""


def _phone_lines(html: str) -> int:
    """About how many lines this HTML takes at phone width: 40 characters of prose a
    line, each line of code or output a line, a figure ten."""
    pre = sum(m.count("\n") + 1 for m in re.findall(r"<pre[^>]*>(.*?)</pre>", html, re.S))
    prose = re.sub(r"<pre[^>]*>.*?</pre>", "", html, flags=re.S)
    text = re.sub(r"<[^>]+>", "", prose)
    return len(text) // 40 + pre + 10 * html.count("<img")


def _fold_if_long(html: str) -> str:
    # open on both sides: the question needs it, and a tap on its summary folds it away
    if _phone_lines(html) <= LONG_CONTEXT_LINES:
        return html
    return f'<details class="fold" open><summary>Context</summary>{html}</details>'


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
                outputs = Outputs(items[position:position + len(cells)], cells)
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
