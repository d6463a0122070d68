"""Printable cards, read back from the PDF: alignment, containment, completeness, overflow."""

from __future__ import annotations

import re
from pathlib import Path

import pymupdf
import pytest

from conftest import build, cards_json, write_bank
from deckgen.render.pdf import PrintOptions, build_pdf, calibration_pdf

pytestmark = pytest.mark.slow
WHITE = (1.0, 1.0, 1.0)
TOL = 0.1  # pt


def card_rects(page) -> list[pymupdf.Rect]:
    """Each card (and each blank continuation slot) has a white background rectangle."""
    return [d["rect"] for d in page.get_drawings() if d.get("fill") == WHITE and
            d["rect"].width > 100 and d["rect"].height > 100]


def spans(page):
    for block in page.get_text("dict")["blocks"]:
        for line in block.get("lines", []):
            for span in line["spans"]:
                if span["text"].strip():
                    yield span


@pytest.fixture(scope="module")
def seed_pdfs(seed_build: Path):
    """The default bank's cards, printed with each layout."""
    from deckgen.model import Card, Deck, Kind  # noqa: F401 - rebuild the deck from JSON
    data = cards_json(seed_build)
    deck = _deck_from(seed_build)
    pdfs = {layout: build_pdf(deck, PrintOptions(layout=layout), None)
            for layout in ("long-edge", "short-edge", "fold")}
    return data, pdfs


def _deck_from(out: Path):
    """The Deck of a build, re-created by the library (cells come from the build's cache)."""
    from deckgen import config
    from deckgen.pipeline import gather, make_deck

    root = out.parent / "source"
    cfg = config.override(config.load(root), out=out)
    deck, _, executed = make_deck(cfg, gather(cfg))
    assert executed == 0
    return deck


@pytest.mark.parametrize("layout", ["long-edge", "short-edge"])
def test_backs_are_mirrored_behind_their_fronts(seed_pdfs, layout):
    _, pdfs = seed_pdfs
    doc = pymupdf.open(stream=pdfs[layout][0], filetype="pdf")
    assert doc.page_count % 2 == 0
    for i in range(0, doc.page_count, 2):
        front, back = doc[i], doc[i + 1]
        fr, br = card_rects(front), card_rects(back)
        assert len(fr) == len(br) > 0
        width, height = front.rect.width, front.rect.height
        for f, b in zip(fr, br):
            if layout == "long-edge":  # flip around the vertical axis
                mirrored = pymupdf.Rect(width - f.x1, f.y0, width - f.x0, f.y1)
            else:  # flip around the horizontal axis
                mirrored = pymupdf.Rect(f.x0, height - f.y1, f.x1, height - f.y0)
            assert all(abs(a - c) <= TOL for a, c in zip(mirrored, b)), (i, f, b)


def test_no_glyph_leaves_its_card(seed_pdfs):
    _, pdfs = seed_pdfs
    for layout, (pdf, _) in pdfs.items():
        doc = pymupdf.open(stream=pdf, filetype="pdf")
        for page in doc:
            rects = card_rects(page)
            for span in spans(page):
                box = pymupdf.Rect(span["bbox"])
                if box.y1 < rects[0].y0 and span["size"] < 7:  # the sheet's printing note
                    continue
                assert any(r.x0 - 0.5 <= box.x0 and box.x1 <= r.x1 + 0.5 and
                           r.y0 - 0.5 <= box.y0 and box.y1 <= r.y1 + 0.5 for r in rects), \
                    (layout, page.number, span["text"][:40], box)


def test_every_card_appears_by_its_footer_reference(seed_pdfs):
    data, pdfs = seed_pdfs
    doc = pymupdf.open(stream=pdfs["long-edge"][0], filetype="pdf")
    found = {s["text"].strip() for page in doc for s in spans(page)}
    refs = [c["ref"] for c in data["cards"]]
    assert [r for r in refs if r not in found] == []


def test_fold_over_pairs_each_question_with_its_own_answer(seed_pdfs):
    _, pdfs = seed_pdfs
    doc = pymupdf.open(stream=pdfs["fold"][0], filetype="pdf")
    pairs = 0
    for page in doc:
        rects = card_rects(page)
        refs = [(s["text"].strip(), pymupdf.Rect(s["bbox"])) for s in spans(page)
                if re.fullmatch(r"Q\d+(\.\d+)?", s["text"].strip())]
        for left, right in zip(rects[0::2], rects[1::2]):
            assert abs(left.x1 - right.x0) <= TOL and abs(left.y0 - right.y0) <= TOL
            in_left = {t for t, b in refs if left.contains(b)}
            in_right = {t for t, b in refs if right.contains(b)}
            if in_left and in_right:
                assert in_left == in_right
                pairs += 1
    assert pairs >= 183


def test_every_formula_renders(seed_pdfs):
    _, pdfs = seed_pdfs
    pdf, stats = pdfs["long-edge"]
    assert stats.formulas > 600 and stats.failures == []
    text = "".join(page.get_text() for page in pymupdf.open(stream=pdf, filetype="pdf"))
    for raw in ("\\frac", "\\sum", "\\begin{", "\\left", "\\(", "\\["):
        assert raw not in text


def test_long_text_shrinks_then_continues_on_follow_up_cards(tmp_path):
    medium = "A question of some length that needs a smaller font. " * 22
    long = "A very long question that cannot fit on one card at any readable size. " * 80
    bank = write_bank(tmp_path / "b", f"1. Short?\n\n---\n\n2. {medium}?\n\n---\n\n3. {long}?\n",
                      "## 1\nYes.\n\n## 2\nYes.\n\n## 3\nYes.\n")
    result = build(bank, tmp_path / "out")
    doc = pymupdf.open(tmp_path / "out" / "t-cards.pdf")
    sizes = {}
    texts = []
    for page in doc:
        for s in spans(page):
            texts.append(s["text"].strip())
            for word in ("Short?", "needs a smaller", "cannot fit"):
                if word in s["text"]:
                    sizes.setdefault(word, set()).add(round(s["size"], 1))
    assert max(sizes["Short?"]) == 10.0
    assert max(sizes["needs a smaller"]) < 10.0  # shrunk to fit on one card
    assert min(sizes["cannot fit"]) >= 6.5  # never below the readable minimum
    assert "1/2" in texts or any(re.fullmatch(r"1/\d", t) for t in texts)
    assert any(t.startswith("Q3 continued") for t in texts) or "2/2" in texts
    assert any("3 cards on" in n and "printed cards" in n for n in result.notes)
    assert not any(n.startswith("pdf: 3 cards on 3 printed") for n in result.notes)


def test_selection_sizes_and_paper(seed_build: Path):
    deck = _deck_from(seed_build)
    pdf, stats = build_pdf(deck, PrintOptions(section="Similarity Measures", card="index",
                                              paper="letter"), None)
    doc = pymupdf.open(stream=pdf, filetype="pdf")
    assert stats.cards == 10  # questions 23-26: 1 + 4 + 4 + 1 parts
    assert round(doc[0].rect.width) in (612, 792)  # US Letter, either orientation
    r = card_rects(doc[0])[0]
    assert abs(r.width - 127 / 25.4 * 72) < 0.5 and abs(r.height - 76.2 / 25.4 * 72) < 0.5
    pdf, stats = build_pdf(deck, PrintOptions(questions=(34, 35), card="a7"), None)
    assert stats.cards == 5


def test_back_offset_and_calibration_sheet():
    pdf = calibration_pdf(PrintOptions(back_offset=(1.5, -0.5)), None)
    doc = pymupdf.open(stream=pdf, filetype="pdf")
    assert doc.page_count == 2 and "double-sided at 100%" in doc[0].get_text()


def test_an_edit_re_typesets_only_its_chunk(tiny: Path, tmp_path: Path):
    out = tmp_path / "out"
    build(tiny, out)
    before = {p.name for p in (out / "cache" / "pdf").glob("*.pdf")}
    assert len(before) == 2  # one chunk per section of the tiny bank
    q = tiny / "questions.md"
    q.write_text(q.read_text().replace("What is $2 + 2$?", "What is $2 + 3$?"))
    build(tiny, out)
    after = {p.name for p in (out / "cache" / "pdf").glob("*.pdf")}
    assert len(after - before) == 1  # only the Basics chunk was typeset again


def test_text_beyond_the_serif_font_still_prints(tmp_path: Path):
    bank = write_bank(tmp_path / "b", "1. Что такое ∇? Smile 😀, arrows ⇒ ↦.\n\n---\n\n"
                      "2. What is 学习率 (learning rate)?\n", "## 1\nThe gradient.\n\n## 2\nStep size.\n")
    result = build(bank, tmp_path / "out")
    text = "".join(p.get_text() for p in pymupdf.open(tmp_path / "out" / "t-cards.pdf"))
    for word in ("Что", "😀", "⇒", "↦"):
        assert word in text, word
    fonts = {f[3] for p in pymupdf.open(tmp_path / "out" / "t-cards.pdf")
             for f in p.get_fonts(full=True)}
    assert any("LastResort" in f for f in fonts)  # a visible placeholder, not nothing
    assert any("Q2 contain CJK characters" in n for n in result.notes)
    assert not any("Q1 " in n and "CJK" in n for n in result.notes)


def test_a_pdf_of_more_cards_than_max_cards_is_a_clear_error(tmp_path: Path):
    questions = "".join(f"{n}. Question {n}?\n\n" for n in range(1, 7))
    bank = write_bank(tmp_path / "b", questions)
    with (bank / "deckgen.toml").open("a") as f:
        f.write('formats = ["pdf"]\n[print]\nmax_cards = 5\n')
    from deckgen.errors import DeckgenError
    with pytest.raises(DeckgenError, match="6 cards, more than max_cards = 5"):
        build(bank, tmp_path / "out")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.pdf"))
    text = (bank / "deckgen.toml").read_text().replace("max_cards = 5", "max_cards = 6")
    (bank / "deckgen.toml").write_text(text)
    build(bank, tmp_path / "out")
    assert list((tmp_path / "out").glob("*.pdf"))
    (bank / "deckgen.toml").write_text(text.replace("max_cards = 6", 'max_cards = "many"'))
    from deckgen.errors import BuildFailed
    with pytest.raises(BuildFailed) as failed:
        build(bank, tmp_path / "out")
    assert any("max_cards needs a whole number" in d.message
               for d in failed.value.diagnostics)
