"""How a deck's cards read on a phone and a desktop, in light and night mode.

    python benchmarks/card_audit.py build/deep-learning-interviews.apkg
    python benchmarks/card_audit.py DECK.apkg --widths 400,800 --show 5

Imports the package into a scratch collection with the real Anki backend, renders both sides
of every card (``card.question()``, ``card.answer()``), and typesets them with the MathJax and
configuration Anki 26.9.3 ships (see tests/test_browser_cards.py for where they come from) in
headless ``chromium``, once per width and mode, each card in a box of that width. Counts:

- sideways: cards whose content is wider than the box (the card would scroll sideways);
- cut off: question sides where a scroll box (code, output, formula, table) hides part of
  its content;
- contrast: card sides with text below 4.5:1 against its background (WCAG AA), the text's
  own colour against the nearest background behind it.

Prints the counts per width and mode, and with --show N the first N offenders of each kind.
"""

from __future__ import annotations

import argparse
import html
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

SCRIPT = r"""
function lum(rgb) {
  const c = rgb.map(v => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}
function parse(color) {
  const m = color.match(/rgba?\(([^)]+)\)/);
  if (!m) return null;
  const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
  return {rgb: p.slice(0, 3), a: p.length > 3 ? p[3] : 1};
}
function background(el) {
  for (let e = el; e; e = e.parentElement) {
    const b = parse(getComputedStyle(e).backgroundColor);
    if (b && b.a > 0.5) return b.rgb;
  }
  return document.body.classList.contains("nightMode") ? [0, 0, 0] : [255, 255, 255];
}
function contrast(el) {
  const fg = parse(getComputedStyle(el).color).rgb, bg = background(el);
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}
function audit(box, front) {
  const out = {sideways: box.scrollWidth > box.clientWidth + 1, cut: [], low: [], wide: []};
  const right = box.getBoundingClientRect().right;
  for (const el of box.querySelectorAll("*")) {
    if (el.closest("mjx-assistive-mml")) continue;  // MathJax's invisible copy for readers
    const s = getComputedStyle(el);
    if (out.sideways && el.getBoundingClientRect().right > right + 1 && out.wide.length < 3
        && !el.closest("mjx-container"))
      out.wide.push(el.tagName.toLowerCase() + "." + el.className + " "
                    + Math.round(el.getBoundingClientRect().width) + "px");
    if (["auto", "scroll", "hidden"].includes(s.overflowX) && el.scrollWidth > el.clientWidth + 1
        && el.clientWidth > 0)
      out.cut.push(el.tagName.toLowerCase() + "." + (el.className.baseVal ?? el.className)
                   + " " + el.scrollWidth + ">" + el.clientWidth);
    if (el.closest("mjx-container") || s.display === "none" || s.visibility === "hidden") continue;
    const text = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (text) {
      const r = contrast(el);
      if (r < 4.5) out.low.push(el.tagName.toLowerCase() + "." + el.className + " "
                                + r.toFixed(2) + " '" + el.textContent.trim().slice(0, 30) + "'");
    }
  }
  return out;
}
(async () => {
  await MathJax.startup.promise;
  const results = [];
  for (const card of CARDS) {
    const box = document.createElement("div");
    box.style.width = WIDTH + "px";
    box.className = "card" + (NIGHT ? " nightMode night_mode" : "");
    box.innerHTML = card.html;
    document.getElementById("qa").appendChild(box);
    for (const old of box.querySelectorAll("script")) {  // Anki runs a card's scripts
      const s = document.createElement("script");
      s.text = old.text;
      old.replaceWith(s);
    }
    try { await MathJax.typesetPromise([box]); } catch (e) {}
    await new Promise(r => setTimeout(r, 0));  // mutation observers run
    const a = audit(box, card.front);
    a.name = card.name; a.front = card.front;
    results.push(a);
    box.remove();
  }
  document.getElementById("result").textContent = JSON.stringify(results);
})();
"""


def render_cards(apkg: Path, tmp: Path) -> tuple[list[dict], str]:
    from anki_helpers import import_apkg, new_collection

    tmp.mkdir(parents=True, exist_ok=True)
    col = new_collection(tmp)
    import_apkg(col, apkg)
    cards, css = [], ""
    for cid in sorted(col.find_cards("")):
        card = col.get_card(cid)
        css = card.note_type()["css"]
        media = Path(col.media.dir()).as_uri() + "/"
        ref = card.note()["Ref"]
        for side, text in (("front", card.question()), ("back", card.answer())):
            text = text.replace('src="', f'src="{media}')
            cards.append({"name": f"{ref} card {card.ord + 1} {side}", "front": side == "front",
                          "html": text})
    return cards, css


def audit(apkg: Path, js: Path, width: int, night: bool, tmp: Path,
          chromium: str = "chromium") -> list[dict]:
    """Per card side: its name, whether it is a question side, ``sideways`` (and the
    elements too wide: ``wide``), the scroll boxes hiding content (``cut``), the text below
    4.5:1 (``low``). ``js`` is Anki's web ``js/`` folder (its mathjax.js and vendor/)."""
    cards, css = render_cards(apkg, tmp)
    page = tmp / "audit.html"
    data = json.dumps(cards).replace("</", "<\\/")
    body_class = "nightMode night_mode" if night else ""
    page.write_text(f"""<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{css} body {{ margin: 0; }}</style>
<script>{(js / "mathjax.js").read_text()}</script>
<script>MathJax.loader.paths.mathjax = {json.dumps((js / "vendor" / "mathjax").as_uri())};</script>
<script src={json.dumps((js / "vendor" / "mathjax" / "tex-chtml-full.js").as_uri())}></script>
</head><body class="{body_class}"><div id="qa"></div><pre id="result">pending</pre>
<script>const CARDS = {data}; const WIDTH = {width};
const NIGHT = {json.dumps(night)};{SCRIPT}</script></body></html>""", encoding="utf-8")
    done = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp / 'profile'}", "--allow-file-access-from-files",
         f"--window-size={width},900", "--virtual-time-budget=120000", "--dump-dom",
         page.as_uri()], capture_output=True, text=True, timeout=600)
    start = done.stdout.find('<pre id="result">')
    if start < 0:
        raise RuntimeError(f"chromium gave no result: {done.stderr[-500:]}")
    start += len('<pre id="result">')
    return json.loads(html.unescape(done.stdout[start:done.stdout.index("</pre>", start)]))


def anki_js() -> Path:
    """Where tests/test_browser_cards.py keeps Anki's MathJax."""
    import os

    from test_browser_cards import AQT
    return Path(os.environ.get("DECKGEN_TEST_CACHE", Path.home() / ".cache" / "deckgen-tests")) \
        / AQT.replace("==", "-") / "js"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("apkg", type=Path)
    ap.add_argument("--widths", default="400,800")
    ap.add_argument("--show", type=int, default=0)
    args = ap.parse_args()
    js = anki_js()
    if not (js / "mathjax.js").is_file():
        raise SystemExit(f"no Anki MathJax in {js}: run tests/test_browser_cards.py once")
    tmp = Path(tempfile.mkdtemp(prefix="deckgen-audit-"))
    for width in map(int, args.widths.split(",")):
        for night in (False, True):
            results = audit(args.apkg, js, width, night, tmp / f"{width}-{night}")
            sideways = [r for r in results if r["sideways"]]
            cut = [r for r in results if r["front"] and r["cut"]]
            low = [r for r in results if r["low"]]
            mode = "night" if night else "light"
            print(f"{width} px {mode}: {len(results) // 2} cards, "
                  f"{len({r['name'].rsplit(' ', 1)[0] for r in sideways})} scroll sideways, "
                  f"{len(cut)} question sides cut off, {len(low)} card sides with contrast "
                  "below 4.5:1")
            for kind, rows, key in (("sideways", sideways, "wide"), ("cut off", cut, "cut"),
                                    ("contrast", low, "low")):
                for r in rows[:args.show]:
                    print(f"   {kind}: {r['name']}: {'; '.join(r[key][:3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
