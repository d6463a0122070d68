"""A tap on a figure enlarges it, a second tap puts it back; a long context folds away.

The cards are rendered by the real Anki backend and shown in headless chromium at phone width
(400 px), their scripts run as Anki's reviewer runs them; the page then taps the figure (a
click event, as a tap on a phone gives) and reports what the reader would see. Skips without
chromium, unless DECKGEN_REQUIRE_BROWSER=1 (see tests/test_browser_cards.py).
"""

from __future__ import annotations

import html
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from conftest import ROOT, build, write_bank
from test_browser_cards import chromium  # noqa: F401 (fixture)

sys.path.insert(0, str(ROOT / "benchmarks"))

pytestmark = pytest.mark.slow

PROSE = "A long setup sentence that a phone shows over a whole line or more. " * 20
QUESTIONS = f"""## Figures

1. What does the figure show?

   ![A wide drawing](img/wide.png)

---

2. {PROSE}

   ![A wide drawing](img/wide.png)

   1. First part?
   2. Second part?
"""
ANSWERS = """## 1
Stripes.

## 2.1
One.

## 2.2
Two.
"""

SCRIPT = r"""
function loaded(img) {
  return img.complete && img.naturalWidth ? Promise.resolve()
    : new Promise(ok => { img.addEventListener("load", ok); img.addEventListener("error", ok); });
}
(async () => {
  const out = [];
  try {
  for (const card of CARDS) {
    const box = document.createElement("div");
    box.className = "card";
    box.style.width = "400px";
    box.innerHTML = card.html;
    document.getElementById("qa").appendChild(box);
    for (const old of box.querySelectorAll("script")) {
      const s = document.createElement("script");
      s.text = old.text;
      old.replaceWith(s);
    }
    await new Promise(r => setTimeout(r, 0));
    // the images load before anything is measured (on a busy machine they come late)
    await Promise.all([...box.querySelectorAll("img")].map(loaded));
    const img = box.querySelector(".front img, .context img");
    const before = img.getBoundingClientRect().width;
    img.dispatchEvent(new MouseEvent("click", {bubbles: true, cancelable: true}));
    const zoom = document.querySelector(".deckgen-zoom");
    const big = zoom && zoom.querySelector("img");
    if (big) await loaded(big);
    const zoomed = zoom && {position: getComputedStyle(zoom).position,
                            covers: zoom.getBoundingClientRect().width >= document.documentElement.clientWidth,
                            src: big.src === img.src, width: big.getBoundingClientRect().width,
                            natural: big.naturalWidth, scrolls: zoom.scrollWidth > zoom.clientWidth};
    (zoom || document.body).dispatchEvent(new MouseEvent("click", {bubbles: true, cancelable: true}));
    const after = document.querySelectorAll(".deckgen-zoom").length;
    const fold = box.querySelector("details.fold");
    out.push({name: card.name, before, zoomed, after,
              fold: fold ? {open: fold.open, summary: fold.querySelector("summary").textContent}
                         : null});
    box.remove();
  }
  } catch (e) { out.push({error: String(e)}); }
  document.getElementById("result").textContent = JSON.stringify(out);
})();
"""


def _png(width: int, height: int) -> bytes:
    """A striped greyscale PNG of this size."""
    rows = b"".join(b"\x00" + bytes((x // 8 % 2) * 255 for x in range(width))
                    for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0,
                                                              0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_a_tap_enlarges_a_figure_and_a_long_context_folds(tmp_path: Path,
                                                           chromium: str):  # noqa: F811
    from card_audit import render_cards

    bank = write_bank(tmp_path / "b", QUESTIONS, ANSWERS)
    (bank / "img").mkdir()
    (bank / "img" / "wide.png").write_bytes(_png(1200, 300))
    with (bank / "deckgen.toml").open("a") as f:
        f.write('formats = ["apkg"]\n')
    build(bank, tmp_path / "out")
    cards, css = render_cards(next((tmp_path / "out").glob("*.apkg")), tmp_path / "col")
    fronts = [c for c in cards if c["front"]]
    page = tmp_path / "figures.html"
    data = json.dumps(fronts).replace("</", "<\\/")
    page.write_text(f"""<!doctype html><html><head><meta charset="utf-8">
<style>{css} body {{ margin: 0; }}</style></head><body><div id="qa"></div>
<pre id="result">pending</pre><script>const CARDS = {data};{SCRIPT}</script></body></html>""",
                    encoding="utf-8")
    done = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--allow-file-access-from-files",
         "--window-size=400,900", "--virtual-time-budget=20000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=300)
    start = done.stdout.find('<pre id="result">') + len('<pre id="result">')
    assert start >= len('<pre id="result">'), done.stderr[-500:]
    results = json.loads(html.unescape(done.stdout[start:done.stdout.index("</pre>", start)]))
    assert len(results) == 3
    for r in results:
        assert r["before"] <= 400, r  # fits the phone
        z = r["zoomed"]
        assert z and z["position"] == "fixed" and z["covers"] and z["src"], r
        # at its own size: wider than the phone, so the enlarged image scrolls
        assert z["natural"] == 1200 and z["width"] >= 1199 and z["scrolls"], r
        assert r["after"] == 0, r  # the second tap closed it
    assert results[0]["fold"] is None  # no context
    assert [r["fold"] for r in results[1:]] == [{"open": True, "summary": "Context"}] * 2
