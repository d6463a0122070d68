"""Bank with answers (and cell results) -> Deck of cards with HTML fields."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markdown_it.tree import SyntaxTreeNode

from deckgen.errors import Diagnostic, Location, Severity
from deckgen.ids import note_guid
from deckgen.markdown import parser
from deckgen.media import MediaStore
from deckgen.model import Answer, Bank, Block, Card, Choice, Deck, Figure, Kind, Part, Question
from deckgen.parse import BLANK
from deckgen.render.html import (Outputs, RenderContext, fill_blanks, render_inline,
                                 render_markdown)

_CORRECT = re.compile(r"^\W*correct\W*:?\s*\**\s*((?:\d+[\s,;and&]*)+|none)\s*\**\s*\.?\s*(\n|$)",
                      re.IGNORECASE)
_VERDICT = re.compile(r"^\W*(true|false)\b", re.IGNORECASE)
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
            self._contexts[q.number] = self.blocks(q.stem)
        return self._contexts[q.number]

    def figure(self, fig: Figure) -> str:
        name = self.media.image(fig.src, Path(self.bank.path).parent, fig.loc)
        self.diagnostics.extend(self.media.diagnostics)
        self.media.diagnostics.clear()
        if name is None:
            return f'<div class="figure missing">[{html.escape(fig.caption or fig.alt)}]</div>'
        alt = html.escape(fig.alt or fig.caption, quote=True)
        cap = f"<figcaption>{html.escape(fig.caption)}</figcaption>" if fig.caption else ""
        return f'<figure class="figure"><img src="{name}" alt="{alt}">{cap}</figure>'

    def choices(self, choices: tuple[Choice, ...], correct: set[int] | None = None) -> str:
        items = []
        for c in choices:
            text = render_inline(c.markdown.replace("\n", " "), self.ctx(c.loc))
            cls = ""
            if correct is not None:
                cls = ' class="correct"' if c.number in correct else ' class="wrong"'
            items.append(f"<li{cls}>{text}</li>")
        return f'<ol class="choices">{"".join(items)}</ol>'

    def card(self, q: Question, part: Part, outputs: Outputs) -> Card:
        key = q.key(part)
        ref = f"Q{key}"
        cloze = part.kind is Kind.CLOZE
        counter = [0] if cloze else None
        if part.label:
            context = self.context(q)
            front = self.blocks(part.body, counter)
        else:
            context = ""
            front = self.blocks(q.stem, counter)
        answer = part.answer
        back = ""
        if answer is None:
            back = (f'<div class="unanswered">No answer yet: add <code>## {key}</code> to the '
                    "answers file.</div>")
            if cloze:
                front = fill_blanks(front, [])
            if part.kind is Kind.CHOICE:
                front += self.choices(part.choices)
        elif part.kind is Kind.CHOICE:
            correct, rest = self.correct_options(part, answer, key)
            front += self.choices(part.choices)
            back = self.choices(part.choices, correct) + self.answer_html(rest, answer, outputs)
        elif cloze:
            fills, rest = self.cloze_fills(part, answer, key, outputs)
            front = fill_blanks(front, fills)
            back = self.answer_html(rest, answer, outputs)
        else:
            back = self.answer_html(answer.markdown, answer, outputs)
            if part.kind is Kind.TRUEFALSE:
                m = _VERDICT.match(answer.markdown)
                if m:
                    back = f'<div class="verdict {m.group(1).lower()}">{back}</div>'
                else:
                    self.diagnostics.append(Diagnostic(
                        answer.loc, f"{key} is true/false: start its answer with **True.** or "
                        "**False.**", "no-verdict", Severity.WARNING))
        section = q.section or ""
        deck = f"{self.deck_name}::{section.replace('::', ':')}" if section else self.deck_name
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

    def correct_options(self, part: Part, answer: Answer, key: str) -> tuple[set[int], str]:
        m = _CORRECT.match(answer.markdown)
        if not m:
            self.diagnostics.append(Diagnostic(
                answer.loc, f"{key} is multiple choice: start its answer with a line like "
                "'Correct: 1, 3'", "no-correct-options"))
            return set(), answer.markdown
        numbers = {int(n) for n in re.findall(r"\d+", m.group(1))}
        bad = sorted(n for n in numbers if not 1 <= n <= len(part.choices))
        if bad:
            self.diagnostics.append(Diagnostic(
                answer.loc, f"{key} has {len(part.choices)} options; 'Correct' names "
                f"{', '.join(map(str, bad))}", "bad-correct-options"))
        return numbers, answer.markdown[m.end():]

    def cloze_fills(self, part: Part, answer: Answer, key: str,
                    outputs: Outputs) -> tuple[list[str], str]:
        """The answer's leading ordered list gives the fills; the rest is the explanation."""
        tree = SyntaxTreeNode(parser().parse(answer.markdown))
        first = tree.children[0] if tree.children else None
        lines = answer.markdown.split("\n")
        if first is None or first.type != "ordered_list" or not first.map:
            self.diagnostics.append(Diagnostic(
                answer.loc, f"{key} has {part.blanks} blank(s): start its answer with a numbered "
                "list of the fills, one per blank", "no-cloze-fills"))
            return [], answer.markdown
        fills = []
        for item in first.children:
            assert item.map is not None
            text = "\n".join(lines[item.map[0]:item.map[1]]).strip()
            text = re.sub(r"^\d+[.)]\s*", "", text)
            fills.append(render_inline(" ".join(text.split()), self.ctx(answer.loc, outputs)))
        if len(fills) != part.blanks:
            self.diagnostics.append(Diagnostic(
                answer.loc, f"{key} has {part.blanks} blank(s) but its answer lists "
                f"{len(fills)} fill(s)", "cloze-fill-count"))
        return fills, "\n".join(lines[first.map[1]:]).strip("\n")


def _mark_blanks(text: str, counter: list[int]) -> str:
    def mark(_: re.Match[str]) -> str:
        counter[0] += 1
        return f"\ue000{counter[0]}\ue001"
    text = _SPAN_BLANK.sub(lambda m: ("`" if m.group(0)[0] == "`" else "")
                           + mark(m) + ("`" if m.group(0)[0] == "`" else ""), text)
    return BLANK.sub(mark, text)


def _tag(text: str) -> str:
    return re.sub(r"[^\w:-]+", "_", text).strip("_") or "none"


def build_deck(banks: list[Bank], deck_name: str, results: Results, media: MediaStore,
               guids: dict[tuple[str, str], str] | None = None) -> tuple[Deck, list[Diagnostic]]:
    """Every part of every question becomes one card; ``guids`` come from the lock file."""
    diagnostics: list[Diagnostic] = []
    cards: list[Card] = []
    for bank in banks:
        builder = _Builder(bank, deck_name, media, diagnostics, guids or {})
        for q in bank.questions:
            items = results.get((bank.path, q.number), [])
            position = 0
            for part in q.parts:
                count = len(part.answer.cells) if part.answer else 0
                outputs = Outputs(items[position:position + count])
                position += count
                cards.append(builder.card(q, part, outputs))
    used = {name for card in cards for name in card.media}
    return Deck(deck_name, tuple(cards), {n: media.files[n] for n in sorted(used)}), diagnostics
