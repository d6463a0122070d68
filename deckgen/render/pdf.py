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

import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from deckgen import templates
from deckgen.atomic import Staging
from deckgen.errors import ConfigError, RenderError
from deckgen.model import Card, Deck, Kind
from deckgen.render.typst_markup import (MathConverter, MathStats, cloze_fills, html_to_typst,
                                         string)

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
PDF_FORMAT = 2  # bump to invalidate cached typeset chunks


@dataclass(frozen=True)
class PrintOptions:
    layout: str = "long-edge"
    paper: str = "a4"
    card: str = "eight"
    back_offset: tuple[float, float] = (0.0, 0.0)
    """mm added to every back-side position, to correct a printer that shifts the back."""
    section: str | None = None
    questions: tuple[int, ...] = ()

    def check(self) -> None:
        if self.layout not in LAYOUTS:
            raise ConfigError(f"unknown print layout '{self.layout}' (use {', '.join(LAYOUTS)})")
        if self.paper not in PAPERS:
            raise ConfigError(f"unknown paper '{self.paper}' (use {', '.join(PAPERS)})")
        if self.card not in CARDS:
            raise ConfigError(f"unknown card size '{self.card}' (use {', '.join(CARDS)})")


def print_options(settings: dict) -> PrintOptions:
    """PrintOptions from the [print] table of deckgen.toml merged with command-line flags."""
    known = {"layout", "paper", "card", "back_offset", "section", "questions"}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ConfigError(f"unknown [print] setting(s): {', '.join(unknown)}")
    offset = settings.get("back_offset", (0.0, 0.0))
    if isinstance(offset, str):
        offset = [float(v) for v in offset.split(",")]
    if len(offset) != 2:
        raise ConfigError("back_offset needs two numbers (x, y) in millimetres")
    questions = settings.get("questions", ())
    if isinstance(questions, str):
        questions = parse_questions(questions)
    opts = PrintOptions(layout=settings.get("layout", "long-edge"),
                        paper=settings.get("paper", "a4").lower(),
                        card=settings.get("card", "eight").lower(),
                        back_offset=(float(offset[0]), float(offset[1])),
                        section=settings.get("section") or None,
                        questions=tuple(int(q) for q in questions))
    opts.check()
    return opts


def parse_questions(spec: str) -> tuple[int, ...]:
    """'1,5-9' -> (1, 5, 6, 7, 8, 9)."""
    out: list[int] = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise ConfigError(f"bad question list '{spec}' (example: 1,5-9)")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        out.extend(range(lo, hi + 1))
    return tuple(out)


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


def _side_content(card: Card, side: str, math: MathConverter, media: dict[str, bytes],
                  workdir: Path) -> str:
    if side == "front":
        html_text = (f'<div class="context">{card.context}</div>' if card.context else "") + \
            card.front
        return html_to_typst(html_text, math, media, workdir, "front")
    back = card.back
    if card.kind is Kind.CLOZE:
        fills = "".join(f"<li>{fill}</li>" for _, fill in cloze_fills(card.front))
        back = f"<ol>{fills}</ol>{back}"
    return html_to_typst(back, math, media, workdir, "back")


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


def render_cards(cards: list[Card], media: dict[str, bytes], workdir: Path,
                 card_size: tuple[float, float], override: Path | None,
                 cache: Path | None = None) -> tuple[list[Physical], MathStats]:
    """Pass 1: the cards' sides typeset on pages of the card's size, in chunks.

    Cards are grouped by section (long sections in runs of CHUNK cards), and each group is
    one Typst document. Its PDF is kept in ``cache`` under the hash of its source and the card
    template, so a rebuild typesets only the groups that changed; fewer, larger documents
    keep the fonts embedded once per group rather than once per card.
    """
    template = templates.load("print/card.typ", override)
    (workdir / "card.typ").write_text(template)
    (workdir / "chunks").mkdir(exist_ok=True)
    math = MathConverter(workdir, lambda: _compiler(workdir), cache)
    header = ('#import "/card.typ": *\n'
              f"#show: card-doc.with(width: {card_size[0]}mm, height: {card_size[1]}mm)\n")
    chunks: list[list[tuple[Card, list[str]]]] = []
    for card in cards:
        sides = []
        for side in ("front", "back"):
            body = _side_content(card, side, math, media, workdir)
            sides.append(f"#card(side: {string(side)}, ref: {string(card.ref)}, "
                         f"section: {string(card.section)}{{last}})[\n{body}\n]\n")
        if not chunks or len(chunks[-1]) >= CHUNK or chunks[-1][0][0].section != card.section:
            chunks.append([])
        chunks[-1].append((card, sides))
    math.save()

    def typeset(chunk: list[tuple[Card, list[str]]]) -> tuple[str, list[int]]:
        parts = [header]
        for i, (_, sides) in enumerate(chunk):
            parts.append(sides[0].replace("{last}", ""))
            parts.append(sides[1].replace("{last}", ", last: true" if i == len(chunk) - 1
                                          else ""))
        return _typeset_chunk("".join(parts), template, chunk[0][0], workdir, cache)

    # typst releases the GIL while it typesets: the chunks that are not cached are set in
    # parallel, one thread per core
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        done = list(pool.map(typeset, chunks))
    physical: list[Physical] = []
    for chunk, (name, starts) in zip(chunks, done):
        for i, (card, _) in enumerate(chunk):
            fs, bs, after = starts[2 * i], starts[2 * i + 1], starts[2 * i + 2]
            fn, bn = bs - fs, after - bs
            n = max(fn, bn)
            for j in range(n):
                physical.append(Physical(card.ref, (name, fs + j) if j < fn else None,
                                         (name, bs + j) if j < bn else None,
                                         f"{card.ref} continued ({j + 1}/{n})" if n > 1
                                         else ""))
    return physical, math.stats


def _typeset_chunk(source: str, template: str, first: Card, workdir: Path,
                   cache: Path | None) -> tuple[str, list[int]]:
    """(PDF path from the project root, first page of each side + one past the last page)."""
    import hashlib
    import json

    key = hashlib.sha256(f"{PDF_FORMAT}\0{template}\0{source}".encode()).hexdigest()[:24]
    target = workdir / "chunks" / f"{key}.pdf"
    cached = cache / "pdf" / f"{key}.pdf" if cache else None
    pages_file = cached.with_suffix(".json") if cached else None
    data, starts = b"", []
    if cached is not None and pages_file is not None:
        try:  # a missing or damaged entry is simply typeset again
            data, starts = cached.read_bytes(), json.loads(pages_file.read_text())
            if not data.startswith(b"%PDF") or not all(isinstance(p, int) for p in starts):
                data, starts = b"", []
        except (OSError, ValueError):
            data, starts = b"", []
    if not data or not starts:
        typ = workdir / "chunks" / f"{key}.typ"
        typ.write_text(source, encoding="utf-8")
        compiler = _compiler(workdir, typ)
        try:
            data = compiler.compile(format="pdf", timestamp=TIMESTAMP, pdf_tags=False)
            marks = json.loads(compiler.query("<deckgen-side>", field="value"))
            end = json.loads(compiler.query("<deckgen-end>", field="value"))
        except Exception as exc:  # noqa: BLE001 - typst.TypstError carries the diagnostic
            raise RenderError(f"the cards from {first.ref} on could not be typeset for "
                              f"printing: {exc}", first.loc, "pdf-typeset") from exc
        starts = [m["page"] for m in marks] + [end[-1]["page"] + 1]
        if cached is not None and pages_file is not None:
            from deckgen.atomic import write_bytes_atomic
            write_bytes_atomic(cached, data)
            write_bytes_atomic(pages_file, json.dumps(starts).encode())
    target.write_bytes(data)
    return f"/chunks/{key}.pdf", starts


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
              cache: Path | None = None) -> tuple[bytes, PdfStats]:
    opts.check()
    cards = _select(deck.cards, opts)
    if not cards:
        import typst
        empty = b'#set page(paper: "a4")\n#align(center + horizon)[This deck has no cards.]\n'
        return typst.compile(empty, format="pdf", ignore_system_fonts=True,
                             timestamp=TIMESTAMP), PdfStats()
    with tempfile.TemporaryDirectory(prefix="deckgen-pdf-") as tmp:
        workdir = Path(tmp)
        physical, math = render_cards(cards, deck.media, workdir, CARDS[opts.card], override,
                                      cache)
        pdf = compile_sheets(impose(physical, opts, override), workdir, override)
    paper, card = PAPERS[opts.paper], CARDS[opts.card]
    grid = make_grid(paper, card, 2 if opts.layout == "fold" else 1)
    per_sheet = grid.rows * (grid.cols // 2 if opts.layout == "fold" else grid.cols)
    sheets = math_ceil(len(physical), per_sheet)
    stats = PdfStats(len(cards), len(physical), sheets, math.native + math.fallback,
                     math.fallback, math.failures,
                     [c.ref for c in cards if _NO_FONT.search(c.context + c.front + c.back)])
    return pdf, stats


# CJK ideographs, kana, hangul, fullwidth forms, and emoji beyond DejaVu Sans's emoticons
_NO_FONT = re.compile("[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
                      "\U0001F300-\U0001F5FF\U0001F680-\U0001FAFF\U00020000-\U0003FFFF]")


def math_ceil(a: int, b: int) -> int:
    return -(-a // b)


class PdfRenderer:
    suffix = "-cards.pdf"

    def __init__(self, options: PrintOptions | None = None):
        self.options = options or PrintOptions()
        self.stats: PdfStats | None = None

    def __call__(self, deck: Deck, path: Path, staging: Staging, options: dict) -> None:
        opts = options.get("print") or self.options
        pdf, self.stats = build_pdf(deck, opts, options.get("templates"), options.get("cache"))
        staging.stage_bytes(path, pdf)

    def notes(self) -> list[str]:
        s = self.stats
        if s is None:
            return []
        out_of_reach = ", ".join(s.placeholder_refs[:10]) + \
            (f" and {len(s.placeholder_refs) - 10} more" if len(s.placeholder_refs) > 10 else "")
        out = [f"pdf: {s.cards} cards on {s.physical} printed cards, {s.sheets} sheet(s); "
               f"{s.formulas} formulas, {s.fallback} drawn by the fallback (ziamath), "
               f"{len(s.failures)} left as LaTeX source"]
        out += [f"pdf: formula shown as source: {tex[:80]}" for tex in s.failures]
        if s.placeholder_refs:
            out.append(f"pdf: {out_of_reach} contain CJK characters or emoji that no bundled font "
                       "draws; they print as placeholder boxes (Anki shows them normally)")
        return out


def calibration_pdf(opts: PrintOptions, override: Path | None) -> bytes:
    opts.check()
    with tempfile.TemporaryDirectory(prefix="deckgen-cal-") as tmp:
        workdir = Path(tmp)
        (workdir / "sheet.typ").write_text(templates.load("print/sheet.typ", override))
        (workdir / "calibration.typ").write_text(calibration(opts))
        return _compiler(workdir).compile(input=str(workdir / "calibration.typ"), format="pdf",
                                          timestamp=TIMESTAMP, pdf_tags=False)
