"""Deck -> printable cards (PDF), in two Typst passes.

1. Every card side is set on pages of the card's own size (``renderers/print/card.typ``):
   text shrinks to fit down to a readable minimum, then flows onto continuation pages.
2. Those pages are placed on sheets (``renderers/print/sheet.typ``): fronts on one sheet,
   backs on the next at mirrored positions (long- or short-edge duplex), or front and back
   side by side for folding. Cut marks go in the margins, never on a card.

Fonts come from the typst wheel only (system fonts are ignored), so every machine produces
the same PDF.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import partial
from math import isfinite
from pathlib import Path

from deckgen import templates, trustcache
from deckgen.errors import ConfigError, Diagnostic, Location, RenderError, Severity
from deckgen.content import Content, Element, cloze_fills
from deckgen.model import Bank, Card, Deck, Kind
from deckgen.render import Report, Target
from deckgen.render.plain import to_plain
from deckgen.render.typst_markup import (MathConverter, MathStats, content_to_typst, string,
                                         text_markup)
from deckgen.render.typst_run import TypstTimeout

PAPERS = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
CARDS = {
    "eight": (95.0, 65.0),       # 8 per sheet on both A4 and US Letter
    "a7": (105.0, 74.0),
    "index": (127.0, 76.2),      # 3 x 5 in index card (Avery 5388)
    "business": (88.9, 50.8),    # 2 x 3.5 in business card (Avery 5371)
}
LAYOUTS = ("long-edge", "short-edge", "fold")
MIN_MARGIN = 7.0  # mm kept free at the sheet edge (printers cannot print there anyway)
TIMESTAMP = 1_700_000_000  # fixed PDF creation date: same input, same bytes
PDF_FORMAT = 3  # bump to invalidate cached typeset chunks


@dataclass(frozen=True)
class PrintOptions:
    layout: str = "long-edge"
    paper: str = "a4"
    card: str = "eight"
    back_offset: tuple[float, float] = (0.0, 0.0)
    """mm added to every back-side position, to correct a printer that shifts the back."""
    section: str | None = None
    questions: tuple[int, ...] = ()
    max_cards: int = 5000
    """More cards than this in one PDF is an error (a bank of 100,000 one-line questions
    would take many minutes to set, on some 12,500 sheets): print a part, or raise it."""

    def normalized(self) -> PrintOptions:
        """These options checked by the rules of the [print] table (ConfigError if one is
        broken), with names lower-cased."""
        return print_options({k: v for k, v in vars(self).items() if v is not None})

    def check(self) -> None:
        self.normalized()


# -- the [print] table ---------------------------------------------------------------------
# Each rule is written once: ``print_options`` (raises) and ``check_print_options`` (reports,
# for ``deckgen check``) both go through ``_read_print``. Nothing here imports typst.

MAX_SELECTED = 100_000  # question numbers a selection may expand to ("1-999999999" is a typo)


def _one_of(value: object, choices, what: str, lower: bool = False) -> str | None:
    """Why ``value`` is not one of ``choices``, or None."""
    name = value.lower() if lower and isinstance(value, str) else value
    if isinstance(name, str) and name in choices:
        return None
    shown = f"'{value}'" if isinstance(value, str) else repr(value)
    return f"unknown {what} {shown} (use {', '.join(choices)})"


def _layout(value: object) -> str | None:
    return _one_of(value, LAYOUTS, "print layout")


def _paper(value: object) -> str | None:
    return _one_of(value, PAPERS, "paper", lower=True)


def _card(value: object) -> str | None:
    return _one_of(value, CARDS, "card size", lower=True)


def _number(value: object) -> float | None:
    """A finite float from a TOML number or a string, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, int | float) and isfinite(value):
        return float(value)
    return None


def _offset(value: object) -> tuple[float, float]:
    items = value.split(",") if isinstance(value, str) else value
    if isinstance(items, list | tuple) and len(items) == 2:
        x, y = _number(items[0]), _number(items[1])
        if x is not None and y is not None:
            return (x, y)
    shown = f"'{value}'" if isinstance(value, str) else repr(value)
    raise ValueError(f"back_offset needs two numbers (x, y) in millimetres, e.g. [1.5, -0.5] "
                     f"or \"1.5,-0.5\"; got {shown}")


def _selection(value: object) -> tuple[int, ...]:
    if isinstance(value, str):
        return _question_list(value)
    items = [value] if isinstance(value, int) else value
    if isinstance(items, list | tuple) and all(isinstance(q, int) and not isinstance(q, bool)
                                               and q > 0 for q in items):
        if len(items) > MAX_SELECTED:
            raise ValueError(f"questions selects more than {MAX_SELECTED} questions")
        return tuple(items)
    raise ValueError(f"questions needs question numbers, as a list such as [1, 5, 6] or a "
                     f"string such as \"1,5-9\"; got {value!r}")


def _question_list(spec: str) -> tuple[int, ...]:
    """'1,5-9' -> (1, 5, 6, 7, 8, 9); ValueError for anything else."""
    out: list[int] = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        m = re.fullmatch(r"(\d+)\s*(?:-\s*(\d+))?", part)
        if not m:
            raise ValueError(f"bad question list '{spec}' (example: 1,5-9)")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if hi < lo:
            raise ValueError(f"bad question list '{spec}': the range {part} is backwards")
        if lo < 1:
            raise ValueError(f"bad question list '{spec}': questions are numbered from 1")
        if len(out) + hi - lo + 1 > MAX_SELECTED:
            raise ValueError(f"question list '{spec}' selects more than {MAX_SELECTED} "
                             "questions")
        out.extend(range(lo, hi + 1))
    return tuple(out)


def _max_cards(value: object) -> int:
    if type(value) is int and 1 <= value <= 1_000_000:
        return value
    raise ValueError(f"max_cards needs a whole number from 1 to 1000000; got {value!r}")


def _section(value: object) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    raise ValueError(f"section needs a section name (a string); got {value!r}")


def _checked(rule):
    """A reader from a rule that returns a problem or None: ValueError for the problem."""
    def read(value: object) -> str:
        problem = rule(value)
        if problem:
            raise ValueError(problem)
        assert isinstance(value, str)
        return value.lower()
    return read


_READERS = {
    "layout": _checked(_layout),
    "paper": _checked(_paper),
    "card": _checked(_card),
    "back_offset": _offset,
    "section": _section,
    "questions": _selection,
    "max_cards": _max_cards,
}


def _read_print(settings: object) -> tuple[dict, list[str]]:
    """(PrintOptions keyword arguments, problems) from a [print] table merged with flags."""
    if not isinstance(settings, dict):
        return {}, [f"[print] must be a table of settings; got {settings!r}"]
    problems = []
    unknown = sorted(str(k) for k in settings if k not in _READERS)
    if unknown:
        problems.append(f"unknown [print] setting(s): {', '.join(unknown)} "
                        f"(known: {', '.join(_READERS)})")
    values = {}
    for key, read in _READERS.items():
        if key in settings:
            try:
                values[key] = read(settings[key])
            except ValueError as exc:
                problems.append(str(exc))
    return values, problems


def print_options(settings: dict, where: Location | None = None) -> PrintOptions:
    """PrintOptions from the [print] table of deckgen.toml merged with command-line flags;
    ConfigError (with every problem) if a setting is invalid."""
    values, problems = _read_print(settings)
    if problems:
        raise ConfigError("; ".join(problems), where, "print-options")
    return PrintOptions(**values)


def check_print_options(settings: dict, where: Location | None) -> list[Diagnostic]:
    """Every problem of a [print] table, as errors at ``where``; never raises."""
    return [Diagnostic(where, problem, "print-options", Severity.ERROR)
            for problem in _read_print(settings)[1]]


def print_table_location(config_file: Path | None, shown: str | None = None
                         ) -> Location | None:
    """Where the [print] table of ``config_file`` starts (see config.table_location)."""
    from deckgen.config import table_location
    return table_location(config_file, "print", shown)


def parse_questions(spec: str) -> tuple[int, ...]:
    """'1,5-9' -> (1, 5, 6, 7, 8, 9)."""
    try:
        return _question_list(spec)
    except ValueError as exc:
        raise ConfigError(str(exc), None, "print-options") from exc


@dataclass
class Grid:
    """Where cards go on a sheet (all in mm, origin top left)."""

    paper: tuple[float, float]
    card: tuple[float, float]
    cols: int
    rows: int

    @property
    def origin(self) -> tuple[float, float]:
        w, h = self.paper
        return ((w - self.cols * self.card[0]) / 2, (h - self.rows * self.card[1]) / 2)

    def slot(self, col: int, row: int) -> tuple[float, float]:
        x0, y0 = self.origin
        return (x0 + col * self.card[0], y0 + row * self.card[1])


def make_grid(paper: tuple[float, float], card: tuple[float, float], columns_per_item: int = 1
              ) -> Grid:
    """The orientation of the sheet that holds the most cards."""
    best = None
    for pw, ph in (paper, (paper[1], paper[0])):
        cols = int((pw - 2 * MIN_MARGIN) // card[0])
        rows = int((ph - 2 * MIN_MARGIN) // card[1])
        cols -= cols % columns_per_item
        count = cols * rows
        if cols and rows and (best is None or count > best[0]):
            best = (count, Grid((pw, ph), card, cols, rows))
    if best is None:
        raise ConfigError(f"a {card[0]}x{card[1]} mm card does not fit on {paper} mm paper")
    return best[1]


@dataclass
class Physical:
    """One printed card: which page of which typeset side is its front, and its back."""

    ref: str
    front: tuple[str, int] | None
    """(PDF file of the card's front side, 1-based page), or None for a blank front."""
    back: tuple[str, int] | None
    label: str = ""


@dataclass
class PdfStats:
    cards: int = 0
    physical: int = 0
    sheets: int = 0
    formulas: int = 0
    fallback: int = 0
    failures: list[str] = field(default_factory=list)
    placeholder_refs: list[str] = field(default_factory=list)
    """Cards with characters only the Last Resort placeholder font has."""
    diagnostics: list[Diagnostic] = field(default_factory=list)
    """Warnings about single cards: formulas shown as source, cards printed as plain text."""
    plain_refs: list[str] = field(default_factory=list)
    """Cards Typst could not set, printed as plain text."""


def _side(card: Card, side: str) -> Content:
    """What a printed side shows: the context and the question, or the answer (a cloze
    card's back lists its fills first)."""
    if side == "front":
        return card.context + card.front
    if card.kind is Kind.CLOZE:
        fills = tuple(Element("li", fill) for _, fill in cloze_fills(card.front))
        return (Element("ol", fills), *card.back)
    return card.back


def _side_content(card: Card, side: str, math: MathConverter, media: dict[str, bytes],
                  workdir: Path) -> str:
    return content_to_typst(_side(card, side), math, media, workdir, side)


def _plain_content(card: Card, side: str) -> str:
    """A side as plain text (no markup, images, formulas or code highlighting): what a card
    that Typst cannot set is printed as."""
    text = to_plain(_side(card, side), side)
    note = string("(printed as plain text: this card could not be typeset)")
    return f"{text_markup(text)}\n\n#text(size: 0.8em, fill: luma(90), {note})"


def _side_markup(card: Card, side: str, body: str) -> str:
    return (f"#card(side: {string(side)}, ref: {string(card.ref)}, "
            f"section: {string(card.section)}{{last}})[\n{body}\n]\n")


def _font_dirs() -> list[str]:
    """Fonts besides typst's own: a ``fonts/`` folder in the templates, and the fonts that
    matplotlib (a dependency) ships: DejaVu Sans for sans-serif text and symbols, and the Last
    Resort font, which draws a labelled placeholder for any script no other font covers. Never
    the system's fonts, so every machine prints the same."""
    from importlib.util import find_spec

    dirs = [Path(str(_renderers_dir())) / "fonts"]
    spec = find_spec("matplotlib")  # located, not imported: importing it costs a second
    if spec is not None and spec.origin:
        dirs.append(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf")
    return [str(d) for d in dirs if d.is_dir()]


def _compiler(root: Path, main: Path | None = None):
    import typst

    return typst.Compiler(input=str(main) if main else None, root=str(root),
                          font_paths=_font_dirs(), ignore_system_fonts=True)


def _renderers_dir():
    from importlib import resources
    return resources.files("deckgen.renderers")


def _select(cards: tuple[Card, ...], opts: PrintOptions) -> list[Card]:
    out = list(cards)
    if opts.section:
        out = [c for c in out if c.section.lower() == opts.section.lower()]
        if not out:
            raise ConfigError(f"no cards in section '{opts.section}'")
    if opts.questions:
        wanted = set(opts.questions)
        out = [c for c in out if c.number in wanted]
        if not out:
            raise ConfigError("none of the selected questions is in the bank")
    return out


CHUNK = 24  # cards typeset together: an edit re-typesets its chunk only


@dataclass
class _Chunk:
    """Cards typeset as one Typst document: each with its two sides' markup."""

    cards: list[Card] = field(default_factory=list)
    sides: list[tuple[str, str]] = field(default_factory=list)

    def source(self, header: str, plain: frozenset[int] = frozenset(),
               only: int | None = None) -> str:
        """The document; the cards in ``plain`` as plain text; with ``only``, that card alone."""
        picked = [only] if only is not None else range(len(self.cards))
        parts = [header]
        for n, i in enumerate(picked):
            card = self.cards[i]
            if i in plain:
                front, back = (_side_markup(card, side, _plain_content(card, side))
                               for side in ("front", "back"))
            else:
                front, back = self.sides[i]
            parts.append(front.replace("{last}", ""))
            parts.append(back.replace("{last}", ", last: true" if n == len(picked) - 1
                                      else ""))
        return "".join(parts)


def _source_warning(card: Card, tex: str) -> Diagnostic:
    """The warning for a formula of ``card`` that prints as its LaTeX source (the build's and
    ``deckgen check``'s, so both say exactly the same)."""
    short = " ".join(tex.split())
    short = short if len(short) <= 120 else short[:117] + "..."
    return Diagnostic(
        card.loc, f"{card.ref}: formula '{short}' cannot be typeset for printing (neither "
        "converted for Typst nor drawn by the fallback); the printed card shows its "
        "LaTeX source", "formula-fallback-source", Severity.WARNING)


def render_cards(cards: list[Card], media: dict[str, bytes], workdir: Path,
                 card_size: tuple[float, float], override: Path | None,
                 cache: Path | None = None,
                 progress: Callable[[int, int, str], None] | None = None
                 ) -> tuple[list[Physical], MathStats, list[Diagnostic], list[str]]:
    """Pass 1: the cards' sides typeset on pages of the card's size, in chunks.

    Cards are grouped by section (long sections in runs of CHUNK cards), and each group is
    one Typst document. Its PDF is kept in ``cache`` under the hash of its source and the card
    template, so a rebuild typesets only the groups that changed; fewer, larger documents
    keep the fonts embedded once per group rather than once per card.

    One bad card never stops the others: a formula no converter can draw is shown as its
    source, and a card Typst cannot set is printed as plain text. Returns the printed cards,
    the formula counts, a warning for each such formula or card (at the card's file:line),
    and the refs of the cards printed as plain text.
    """
    template = templates.load("print/card.typ", override)
    (workdir / "card.typ").write_text(template)
    (workdir / "chunks").mkdir(exist_ok=True)
    math = MathConverter(workdir, lambda: _formula_compiler(workdir), cache)
    header = ('#import "/card.typ": *\n'
              f"#show: card-doc.with(width: {card_size[0]}mm, height: {card_size[1]}mm)\n")
    diagnostics: list[Diagnostic] = []
    chunks: list[_Chunk] = []
    for card in cards:
        front, back = (_side_markup(card, side, _side_content(card, side, math, media, workdir))
                       for side in ("front", "back"))
        diagnostics.extend(_source_warning(card, tex) for tex in math.take_failures())
        if not chunks or len(chunks[-1].cards) >= CHUNK or \
                chunks[-1].cards[0].section != card.section:
            chunks.append(_Chunk())
        chunks[-1].cards.append(card)
        chunks[-1].sides.append((front, back))
    math.save()

    def typeset(chunk: _Chunk) -> tuple[str, list[int], dict[int, str]]:
        return _typeset_chunk(chunk, header, template, workdir, cache)

    # typst releases the GIL while it typesets: the chunks that are not cached are set in
    # parallel, one thread per core
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        futures = {pool.submit(typeset, chunk): chunk for chunk in chunks}
        for n, future in enumerate(as_completed(futures), 1):
            if progress is not None:
                progress(n, len(chunks), futures[future].cards[0].section or "")
        done = [future.result() for future in futures]
    physical: list[Physical] = []
    plain_refs: list[str] = []
    for chunk, (name, starts, plain) in zip(chunks, done):
        for i, card in enumerate(chunk.cards):
            if i in plain:
                plain_refs.append(card.ref)
                diagnostics.append(Diagnostic(
                    card.loc, f"{card.ref} cannot be typeset for printing ({plain[i]}); the "
                    "printed card shows it as plain text (no formatting or figures; formulas as "
                    "LaTeX source)", "pdf-plain-text", Severity.WARNING))
            fs, bs, after = starts[2 * i], starts[2 * i + 1], starts[2 * i + 2]
            fn, bn = bs - fs, after - bs
            n = max(fn, bn)
            for j in range(n):
                physical.append(Physical(card.ref, (name, fs + j) if j < fn else None,
                                         (name, bs + j) if j < bn else None,
                                         f"{card.ref} continued ({j + 1}/{n})" if n > 1
                                         else ""))
    return physical, math.stats, diagnostics, plain_refs


def _typst_message(exc: Exception) -> str:
    """The first line of a Typst error, short enough for a one-line diagnostic."""
    text = str(getattr(exc, "message", "") or exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return first if len(first) <= 160 else first[:157] + "..."


def _formula_compiler(workdir: Path):
    """What MathConverter checks each formula with: Typst in a worker process, with a time
    limit (``typst_run.FORMULA_TIMEOUT``)."""
    from deckgen.render.typst_run import FormulaCompiler
    return FormulaCompiler(workdir, _font_dirs())


def _compile_chunk(typ: Path, source: str, workdir: Path, pages: bool = True
                   ) -> tuple[bytes, list[int]]:
    """(PDF, first page of each side + one past the last page, unless not ``pages``);
    raises typst_run.TypstFailed with Typst's error, or typst_run.TypstTimeout when the
    compile takes longer than ``typst_run.CHUNK_TIMEOUT`` (it runs in a worker process, which
    is then killed)."""
    from deckgen.render.typst_run import compile_file

    typ.write_text(source, encoding="utf-8")
    output = typ.with_name(typ.stem + "-out.pdf")
    queries = ("<deckgen-side>", "<deckgen-end>") if pages else ()
    answers = compile_file(typ, workdir, _font_dirs(), output, queries, TIMESTAMP)
    data = output.read_bytes()
    output.unlink()
    if not pages:
        return data, []
    marks = json.loads(answers["<deckgen-side>"])
    end = json.loads(answers["<deckgen-end>"])
    return data, [m["page"] for m in marks] + [end[-1]["page"] + 1]


MAX_CHUNK_BYTES = 512 * 1024 * 1024  # a cached chunk bigger than this is a miss
_MAX_CHUNK_INFO_BYTES = 1024 * 1024


def _chunk_fields(key: str, data: bytes, starts: list[int], plain: dict[str, str]
                  ) -> tuple[str, ...]:
    """What a cached chunk's MAC covers: its key, its PDF (by hash) and its page starts and
    plain-text cards (as canonical JSON)."""
    return (f"pdf-chunk/{PDF_FORMAT}", key, hashlib.sha256(data).hexdigest(),
            json.dumps({"starts": starts, "plain": plain}, sort_keys=True))


def _read_cached(cached: Path, sides: int) -> tuple[bytes, list[int], dict[int, str]] | None:
    """A cached chunk (PDF, page starts, plain cards), or None if missing, damaged, of the
    wrong shape or not written by this user's deckgen (``deckgen.trustcache``): a chunk
    shipped in a bank's cache is never printed."""
    info = trustcache.read_json(cached.with_suffix(".json"), _MAX_CHUNK_INFO_BYTES)
    if not isinstance(info, dict) or info.keys() != {"starts", "plain", "mac"}:
        return None
    starts, plain = info["starts"], info["plain"]
    cards = sides // 2
    if not isinstance(starts, list) or len(starts) != sides + 1 or \
            not all(type(p) is int and 1 <= p <= 1_000_000 for p in starts) or \
            any(a > b for a, b in zip(starts, starts[1:])) or \
            not isinstance(plain, dict) or \
            not all(isinstance(k, str) and k.isdigit() and k.isascii() and int(k) < cards
                    and isinstance(v, str) for k, v in plain.items()):
        return None
    data = trustcache.read_bytes(cached, MAX_CHUNK_BYTES)
    if data is None or not data.startswith(b"%PDF") or \
            not trustcache.valid_mac(info["mac"], *_chunk_fields(cached.stem, data, starts,
                                                                  plain)):
        return None
    return data, starts, {int(k): v for k, v in plain.items()}


def _typeset_chunk(chunk: _Chunk, header: str, template: str, workdir: Path,
                   cache: Path | None) -> tuple[str, list[int], dict[int, str]]:
    """(PDF path from the project root, first page of each side + one past the last page,
    the cards printed as plain text with Typst's reason).

    If Typst fails on the chunk, each card is set alone to find the ones it fails on, and
    the chunk is set again with those as plain text. The result is cached under the hash of
    the original source, so a rebuild neither retries nor loses the warnings."""
    source = chunk.source(header)
    key = hashlib.sha256(f"{PDF_FORMAT}\0{template}\0{source}".encode()).hexdigest()[:24]
    target = workdir / "chunks" / f"{key}.pdf"
    typ = workdir / "chunks" / f"{key}.typ"
    cached = cache / "pdf" / f"{key}.pdf" if cache else None
    hit = _read_cached(cached, 2 * len(chunk.cards)) if cached is not None else None
    if hit is not None:
        data, starts, plain = hit
    else:
        plain = {}
        stopped = False  # a card ran out of time: maybe only on a busy machine, so not cached
        try:
            data, starts = _compile_chunk(typ, source, workdir)
        except Exception as exc:  # noqa: BLE001 - typst.TypstError carries the diagnostic
            first_error = exc
            for i in range(len(chunk.cards)):
                try:
                    _compile_chunk(typ, chunk.source(header, only=i), workdir,
                                   pages=False)
                except Exception as alone:  # noqa: BLE001
                    plain[i] = _typst_message(alone)
                    stopped |= isinstance(alone, TypstTimeout)
            try:
                if not plain:
                    raise first_error
                data, starts = _compile_chunk(typ, chunk.source(header, frozenset(plain)),
                                              workdir)
            except Exception as again:  # noqa: BLE001
                first = chunk.cards[0]
                raise RenderError(f"the cards from {first.ref} on could not be typeset for "
                                  f"printing: {_typst_message(again)}", first.loc,
                                  "pdf-typeset") from again
        if cache is not None and cached is not None and not stopped:
            texts = {str(i): m for i, m in plain.items()}
            # the PDF first: its info (with the MAC over both) makes it a hit
            if trustcache.write(cache, cached, data):
                trustcache.write(cache, cached.with_suffix(".json"), json.dumps(
                    {"starts": starts, "plain": texts,
                     "mac": trustcache.mac(*_chunk_fields(key, data, starts, texts))}).encode())
    target.write_bytes(data)
    return f"/chunks/{key}.pdf", starts, plain


def _mm(v: float) -> str:
    return f"{v:.3f}mm"


def impose(physical: list[Physical], opts: PrintOptions, override: Path | None) -> str:
    """Pass 2: the sheets, as Typst source placing pages of cards.pdf."""
    paper, card = PAPERS[opts.paper], CARDS[opts.card]
    fold = opts.layout == "fold"
    grid = make_grid(paper, card, columns_per_item=2 if fold else 1)
    per_sheet = grid.rows * (grid.cols // 2 if fold else grid.cols)
    w, h = card
    ox, oy = opts.back_offset
    out = ['#import "sheet.typ": *\n',
           f"#set page(width: {_mm(grid.paper[0])}, height: {_mm(grid.paper[1])}, margin: 0mm)\n"]
    first = True
    for start in range(0, len(physical), per_sheet):
        batch = physical[start:start + per_sheet]
        sides = ["front"] if fold else ["front", "back"]
        for side in sides:
            if not first:
                out.append("#pagebreak()\n")
            first = False
            for k, item in enumerate(batch):
                if fold:
                    row, pair = divmod(k, grid.cols // 2)
                    col = pair * 2
                    for c, page in ((col, item.front), (col + 1, item.back)):
                        x, y = grid.slot(c, row)
                        out.append(_slot(page, x, y, w, h, item))
                    fx, fy = grid.slot(col + 1, row)
                    out.append(f"#fold-line({_mm(fx)}, {_mm(fy + 2)}, {_mm(h - 4)})\n")
                    continue
                col, row = k % grid.cols, k // grid.cols
                if side == "back":
                    if opts.layout == "long-edge":
                        col = grid.cols - 1 - col
                    else:
                        row = grid.rows - 1 - row
                x, y = grid.slot(col, row)
                if side == "back":
                    x, y = x + ox, y + oy
                out.append(_slot(item.front if side == "front" else item.back, x, y, w, h, item))
            out.append(_cut_marks(grid, side == "back" and not fold, ox, oy))
            note = ("fold along the dashed lines" if fold else
                    f"{side} · duplex, flip on the {opts.layout.replace('-', ' ')} · "
                    "print at 100% (not fit to page)")
            out.append(f"#sheet-note(8mm, 3mm, {string(note)})\n")
    return "".join(out)


def _slot(page: tuple[str, int] | None, x: float, y: float, w: float, h: float,
          item: Physical) -> str:
    if page is None:
        return f"#continued({_mm(x)}, {_mm(y)}, {_mm(w)}, {_mm(h)}, {string(item.label)})\n"
    return (f"#slot({string(page[0])}, {page[1]}, {_mm(x)}, {_mm(y)}, {_mm(w)}, {_mm(h)})\n")


def _cut_marks(grid: Grid, back: bool, ox: float, oy: float) -> str:
    """Ticks in the margins at every card edge; they never touch a card."""
    x0, y0 = grid.origin
    if back:
        x0, y0 = x0 + ox, y0 + oy
    w, h = grid.card
    pw, ph = grid.paper
    gap, out = 1.5, []
    top_len, side_len = y0 - gap - 1, x0 - gap - 1
    bottom = y0 + grid.rows * h
    right = x0 + grid.cols * w
    for c in range(grid.cols + 1):
        x = x0 + c * w
        if top_len > 1:
            out.append(f"#vtick({_mm(x)}, {_mm(1)}, {_mm(top_len)})\n")
            out.append(f"#vtick({_mm(x)}, {_mm(bottom + gap)}, {_mm(ph - bottom - gap - 1)})\n")
    for r in range(grid.rows + 1):
        y = y0 + r * h
        if side_len > 1:
            out.append(f"#htick({_mm(1)}, {_mm(y)}, {_mm(side_len)})\n")
            out.append(f"#htick({_mm(right + gap)}, {_mm(y)}, {_mm(pw - right - gap - 1)})\n")
    return "".join(out)


def calibration(opts: PrintOptions) -> str:
    """A front and a back page with crosses at the same card positions: printed duplex and
    held against the light, the distance between the crosses is the back offset to set."""
    paper = PAPERS[opts.paper]
    grid = make_grid(paper, CARDS[opts.card])
    out = ['#import "sheet.typ": *\n',
           f"#set page(width: {_mm(grid.paper[0])}, height: {_mm(grid.paper[1])}, margin: 0mm)\n"]
    for side in ("front", "back"):
        if side == "back":
            out.append("#pagebreak()\n")
        for col in range(grid.cols):
            for row in range(grid.rows):
                c, r = col, row
                if side == "back":
                    c, r = ((grid.cols - 1 - col, row) if opts.layout != "short-edge"
                            else (col, grid.rows - 1 - row))
                x, y = grid.slot(c, r)
                cx, cy = x + grid.card[0] / 2, y + grid.card[1] / 2
                if side == "back":
                    cx, cy = cx + opts.back_offset[0], cy + opts.back_offset[1]
                out.append(f"#place(top + left, dx: {_mm(cx - 10)}, dy: {_mm(cy)}, "
                           f"line(length: 20mm, stroke: 0.3pt))\n")
                out.append(f"#place(top + left, dx: {_mm(cx)}, dy: {_mm(cy - 10)}, "
                           f"line(angle: 90deg, length: 20mm, stroke: 0.3pt))\n")
        out.append(_cut_marks(grid, side == "back", *opts.back_offset))
        text = ("Calibration, front. Print this sheet double-sided at 100% (not fit to page), "
                f"flip on the {opts.layout.replace('-', ' ')}. Hold it against the light: if the "
                "crosses on the back sit x mm right and y mm below those on the front, set "
                "back_offset = [-x, -y] under [print] in deckgen.toml.") if side == "front" \
            else "Calibration, back."
        out.append(f"#place(top + left, dx: 10mm, dy: 3mm, box(width: {_mm(paper[0] - 20)}, "
                   f"text(size: 7pt, {string(text)})))\n")
    return "".join(out)


def compile_sheets(source: str, workdir: Path, override: Path | None) -> bytes:
    (workdir / "sheet.typ").write_text(templates.load("print/sheet.typ", override))
    (workdir / "sheets.typ").write_text(source, encoding="utf-8")
    try:
        return _compiler(workdir).compile(input=str(workdir / "sheets.typ"), format="pdf",
                                          timestamp=TIMESTAMP, pdf_tags=False)
    except Exception as exc:  # noqa: BLE001
        raise RenderError(f"the sheets could not be laid out: {exc}") from exc


def build_pdf(deck: Deck, opts: PrintOptions, override: Path | None,
              cache: Path | None = None,
              progress: Callable[[int, int, str], None] | None = None
              ) -> tuple[bytes, PdfStats]:
    opts = opts.normalized()
    cards = _select(deck.cards, opts)
    if len(cards) > opts.max_cards:
        raise RenderError(f"the printed cards would be {len(cards):,} cards, more than "
                          f"max_cards = {opts.max_cards:,} under [print] in deckgen.toml: "
                          "print a part (--section, --questions), raise max_cards, or leave "
                          "pdf out of the formats (--format apkg,json)")
    if not cards:
        import typst
        empty = b'#set page(paper: "a4")\n#align(center + horizon)[This deck has no cards.]\n'
        return typst.compile(empty, format="pdf", ignore_system_fonts=True,
                             timestamp=TIMESTAMP), PdfStats()
    with tempfile.TemporaryDirectory(prefix="deckgen-pdf-") as tmp:
        workdir = Path(tmp)
        physical, math, diagnostics, plain_refs = render_cards(
            cards, deck.media, workdir, CARDS[opts.card], override, cache, progress)
        pdf = compile_sheets(impose(physical, opts, override), workdir, override)
    paper, card = PAPERS[opts.paper], CARDS[opts.card]
    grid = make_grid(paper, card, 2 if opts.layout == "fold" else 1)
    per_sheet = grid.rows * (grid.cols // 2 if opts.layout == "fold" else grid.cols)
    sheets = math_ceil(len(physical), per_sheet)
    stats = PdfStats(len(cards), len(physical), sheets,
                     math.native + math.fallback + math.source, math.fallback, math.failures,
                     [c.ref for c in cards
                      if _NO_FONT.search(to_plain(c.context + c.front + c.back, "back"))],
                     diagnostics, plain_refs)
    return pdf, stats


_UNKNOWN_VALUE = "\ue002deckgen-python-value\ue003"
"""What an inline ``{python}`` value is while ``static_formula_warnings`` renders the cards:
a formula that contains it is known only once the cells ran."""


class _StaticMath(MathConverter):
    """The PDF's converter, leaving out the formulas that hold an inline ``{python}`` value:
    those are neither converted, nor counted, nor remembered in the cache."""

    def __call__(self, tex: str, display: bool) -> str:
        if _UNKNOWN_VALUE in tex:
            return ""
        return super().__call__(tex, display)


def static_formula_warnings(banks: list[Bank], cache: Path | None,
                            print_settings: dict | None = None) -> list[Diagnostic]:
    """The ``formula-fallback-source`` warnings a PDF build of ``banks`` (as gathered by
    ``deckgen.pipeline.gather``) will give, found without running any cell: for ``deckgen
    check``.

    The cards are made as the build makes them (``deckgen.cards.build_deck``) and their sides
    converted as ``render_cards`` converts them, with the same ``MathConverter`` and its cache
    in ``cache`` (so a second check, and the next build, convert nothing again): the same
    formulas are found, in question text, options, cloze fills and answers, and each warning
    has the build's text and location (the card's ``file:line``). Only the cards the
    ``[print]`` settings ``print_settings`` select are printed, so only theirs are checked.

    Not checked, because they are known only once the cells ran: formulas with an inline
    `` `{python} expr` `` value inside, and formulas in cells' outputs (e.g. sympy's LaTeX).
    A build may still warn about those.

    Writes nothing but the cache's converted formulas (``cache/pdf/math-N.json``, when a
    formula is new to it), besides a temporary working folder (as the build's) it removes.
    """
    from deckgen.cards import build_deck
    from deckgen.media import MediaStore

    if not banks:
        return []
    # one stand-in value per cell and inline expression, in the order the cards consume them
    results = {(bank.path, q.number): [{"value": _UNKNOWN_VALUE}] * sum(
        len(p.answer.cells) for p in q.parts if p.answer)
        for bank in banks for q in bank.questions}
    deck, _ = build_deck(banks, "check", results, MediaStore(Path(banks[0].root)))
    try:
        cards = _select(deck.cards, print_options(print_settings or {}))
    except ConfigError:  # a bad [print] table is reported by gather; an empty selection
        return []        # stops the build before any card is printed
    if not cards:
        return []
    diagnostics: list[Diagnostic] = []
    with tempfile.TemporaryDirectory(prefix="deckgen-check-") as tmp:
        workdir = Path(tmp)
        math = _StaticMath(workdir, lambda: _formula_compiler(workdir), cache)
        for card in cards:
            for side in ("front", "back"):
                _side_content(card, side, math, {}, workdir)
            diagnostics.extend(_source_warning(card, tex) for tex in math.take_failures())
        math.save()
    return diagnostics


# CJK ideographs, kana, hangul, fullwidth forms, and emoji beyond DejaVu Sans's emoticons
_NO_FONT = re.compile("[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
                      "\U0001F300-\U0001F5FF\U0001F680-\U0001FAFF\U00020000-\U0003FFFF]")


def math_ceil(a: int, b: int) -> int:
    return -(-a // b)


class PdfRenderer:
    def check(self, settings: dict, where: Location | None) -> list[Diagnostic]:
        return check_print_options(settings, where)

    def render(self, deck: Deck, target: Target) -> Report:
        path = target.path("-cards.pdf")
        progress = target.progress and partial(target.progress, phase="Typesetting cards")
        pdf, stats = build_pdf(deck, print_options(target.settings), target.templates,
                               target.cache, progress)
        target.staging.stage_bytes(path, pdf)
        return Report([path], notes=stats_notes(stats), diagnostics=list(stats.diagnostics))


def stats_notes(s: PdfStats) -> list[str]:
    """One-line notes about a PDF: its size, its formulas, what could not be typeset.
    (Warnings about single cards, each formula shown as its source or card printed as plain
    text, are its diagnostics, with the card's file:line; ``--strict`` fails on them.)"""
    out = [f"pdf: {s.cards} cards on {s.physical} printed cards, {s.sheets} sheet(s); "
           f"{s.formulas} formulas, {s.fallback} drawn by the fallback (ziamath), "
           f"{len(s.failures)} left as LaTeX source"]
    if s.plain_refs:
        out.append(f"pdf: {_some(s.plain_refs)} could not be typeset and print as plain text")
    if s.placeholder_refs:
        out.append(f"pdf: {_some(s.placeholder_refs)} contain CJK characters or emoji that "
                   "no bundled font draws; they print as placeholder boxes (Anki shows them "
                   "normally)")
    return out


def _some(refs: list[str]) -> str:
    return ", ".join(refs[:10]) + (f" and {len(refs) - 10} more" if len(refs) > 10 else "")


def calibration_pdf(opts: PrintOptions, override: Path | None) -> bytes:
    opts = opts.normalized()
    with tempfile.TemporaryDirectory(prefix="deckgen-cal-") as tmp:
        workdir = Path(tmp)
        (workdir / "sheet.typ").write_text(templates.load("print/sheet.typ", override))
        (workdir / "calibration.typ").write_text(calibration(opts))
        return _compiler(workdir).compile(input=str(workdir / "calibration.typ"), format="pdf",
                                          timestamp=TIMESTAMP, pdf_tags=False)
