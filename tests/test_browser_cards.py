"""Hostile cards in a real browser with Anki's own MathJax: nothing runs, links or restyles.

The cards are rendered by the real Anki backend (``card.question()``, ``card.answer()``), put
one after another into one page the way Anki's reviewer shows them (``innerHTML``, then every
``<script>`` re-created so that it runs, then ``MathJax.typesetPromise``), with the MathJax
and the configuration that Anki 26.9.3 ships (``_aqt/data/web/js/``, from the ``aqt`` wheel),
in Debian's headless ``chromium``. The page then reports what a reader could trigger: any
script or event handler that ran (they all set ``window.__pwned``), any link whose target is
not http(s), any element MathJax styled, classed or named from the bank, and whether the
cards' macros reached MathJax (``\\frac`` still makes a fraction).

A control page with the same payloads, not neutralised, must be caught by every one of these
checks: that is what shows they can fail.

Needs ``chromium`` (apt) and the ``aqt`` wheel (downloaded once with pip into
``~/.cache/deckgen-tests``, or ``$DECKGEN_TEST_CACHE``). Without them the tests skip, unless
``DECKGEN_REQUIRE_BROWSER=1`` (``.ci/run`` sets it), when they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import build, write_bank
from deckgen.mathjax import AQT

pytestmark = pytest.mark.slow

PWN = "window.__pwned=(window.__pwned||[]).concat"

QUESTIONS = rf"""## Attacks

1. Click $\href{{javascript:{PWN}('href')}}{{click}}$ or $\url{{javascript:{PWN}('url')}}$?

---

2. Define $\def\frac#1#2{{PWNEDMACRO}}$ and $\newcommand{{\sqrt}}{{PWNEDMACRO}}$, then $\frac{{1}}{{2}}$?

---

3. Style $\style{{background:url(https://tracker.example/x.png)}}{{a}}$, $\class{{pwned-class}}{{b}}$, $\cssId{{pwned-id}}{{c}}$, $\bbox[background:url(https://tracker.example/y.png)]{{d}}$?

---

4. Tokens $\mmlToken{{mi}}[href="javascript:{PWN}('token')"]{{x}}$ and $\require{{action}}\toggle{{a}}{{b}}\endtoggle$ and $\unicode{{<script>{PWN}('unicode')</script>}}$?

---

5. Raw HTML <img src="img/a.png" onload="{PWN}('img')" onerror="{PWN}('img-error')"> <a href="javascript:{PWN}('a')">a</a> <script>{PWN}('script')</script> <svg onload="{PWN}('svg')"></svg> <details open ontoggle="{PWN}('details')">d</details>?

---

6. Encoded <a href="&#106;avascript:{PWN}('entity')">e</a>, [md](javascript:{PWN}('md')), <javascript:{PWN}('auto')>, and text that spells math: &#92;(\href{{javascript:{PWN}('entity-math')}}{{x}}&#92;) and \\(\href{{javascript:{PWN}('escaped-math')}}{{y}}\\)?

---

7. Display
$$
\href{{JaVaScRiPt:{PWN}('case')}}{{x}} \tag{{<img src=x onerror={PWN}('tag')>}}
$$

---

8. Computed?

---

9. A cloze [...] with <b onmouseover="{PWN}('cloze')">bold</b>.
"""
ANSWERS = rf"""## 1
Yes.

## 2
No $\frac{{a}}{{b}}$.

## 3
Text.

## 4
Text.

## 5
Text <iframe src="javascript:{PWN}('iframe')"></iframe>.

## 6
Text.

## 7
Text.

## 8
Value $`{{python}} "\\href{{javascript:{PWN}('computed')}}{{v}}"`$ and `{{python}} "\\(\\href{{javascript:{PWN}('computed-text')}}{{w}}\\)"`.

## 9
1. fill
"""

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<style>{css}</style>
<script>{config}</script>
<script>MathJax.loader.paths.mathjax = {mathjax_dir};</script>
<script src={mathjax_js}></script>
</head><body>
<div id="qa"></div><pre id="result">pending</pre>
<script>
const cards = {cards};
function runScripts(el) {{  // what Anki's reviewer does after setting a card's HTML
  for (const old of el.querySelectorAll("script")) {{
    const s = document.createElement("script");
    for (const a of old.attributes) s.setAttribute(a.name, a.value);
    s.text = old.text;
    old.replaceWith(s);
  }}
}}
function scan(root) {{
  const found = [];
  for (const el of root.querySelectorAll("*")) {{
    for (const a of el.attributes) {{
      const v = a.value.replace(/[\\s\\u0000-\\u001f]+/g, "").toLowerCase();
      if (a.name.startsWith("on")) found.push("handler " + el.tagName + " " + a.name);
      if (["href", "src", "xlink:href", "action", "formaction", "data"].includes(a.name)
          && /^(javascript|vbscript|data):/.test(v)) found.push("url " + el.tagName + " " + v);
    }}
    if (el.id === "pwned-id") found.push("id from the bank");
    if (el.classList && el.classList.contains("pwned-class")) found.push("class from the bank");
    const style = el.getAttribute && (el.getAttribute("style") || "");
    if (/tracker\\.example/.test(style)) found.push("style from the bank: " + style);
    if (["IFRAME", "OBJECT", "EMBED", "FORM", "BASE", "META"].includes(el.tagName))
      found.push("element " + el.tagName);
  }}
  return found;
}}
(async () => {{
  const qa = document.getElementById("qa");
  const out = {{cards: [], errors: []}};
  await MathJax.startup.promise;
  for (const card of cards) {{
    const div = document.createElement("div");
    div.className = "card";
    div.innerHTML = card.html;
    qa.appendChild(div);
    runScripts(div);
    try {{ await MathJax.typesetPromise([div]); }} catch (e) {{ out.errors.push(String(e)); }}
    out.cards.push({{name: card.name, found: scan(div),
                    formulas: MathJax.startup.document.getMathItemsWithin(div).length}});
  }}
  await new Promise(r => setTimeout(r, 500));  // handlers of loads and errors fire
  out.pwned = window.__pwned || [];
  const mml = MathJax.tex2mml("\\\\frac{{a}}{{b}} + \\\\sqrt{{c}}");
  out.macros_intact = mml.includes("<mfrac>") && mml.includes("<msqrt>")
                      && !mml.includes("PWNEDMACRO");
  document.getElementById("result").textContent = JSON.stringify(out);
}})();
</script></body></html>"""


def _required() -> bool:
    return os.environ.get("DECKGEN_REQUIRE_BROWSER") == "1"


def _missing(what: str):
    if _required():
        pytest.fail(f"{what} (DECKGEN_REQUIRE_BROWSER=1)")
    pytest.skip(what)


@pytest.fixture(scope="module")
def anki_mathjax() -> Path:
    """Anki's web folder ``js/`` (its mathjax.js and vendor/mathjax), from the aqt wheel
    (deckgen.mathjax fetches it, as ``deckgen serve`` does, into the tests' own cache)."""
    from deckgen import mathjax

    cache = Path(os.environ.get("DECKGEN_TEST_CACHE", Path.home() / ".cache" / "deckgen-tests"))
    try:
        return mathjax.fetch(cache / AQT.replace("==", "-"))
    except (OSError, RuntimeError) as exc:
        _missing(f"cannot get Anki's MathJax: {exc}")
        raise AssertionError from exc  # not reached


@pytest.fixture(scope="module")
def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    _missing("no chromium on this machine (apt-get install chromium)")
    raise AssertionError  # not reached


def run_page(chromium: str, js: Path, cards: list[dict], css: str, tmp: Path) -> dict:
    page = tmp / "cards.html"
    page.write_text(PAGE.format(
        css=css, config=(js / "mathjax.js").read_text(),
        mathjax_dir=json.dumps((js / "vendor" / "mathjax").as_uri()),
        mathjax_js=json.dumps((js / "vendor" / "mathjax" / "tex-chtml-full.js").as_uri()),
        cards=json.dumps(cards).replace("</", "<\\/")), encoding="utf-8")
    done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                           "--no-first-run", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync",
                           f"--user-data-dir={tmp / 'profile'}",
                           "--allow-file-access-from-files", "--virtual-time-budget=30000",
                           "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=180)
    start = done.stdout.find('<pre id="result">')
    assert start >= 0, done.stderr[-2000:]
    text = done.stdout[start + len('<pre id="result">'):done.stdout.index("</pre>", start)]
    import html
    result = html.unescape(text)
    assert result != "pending", "the page did not finish: " + done.stderr[-2000:]
    return json.loads(result)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[list[dict], str]:
    """Every card of the hostile bank, as Anki's backend renders its two sides."""
    from anki_helpers import import_apkg, new_collection

    root = tmp_path_factory.mktemp("browser")
    bank = write_bank(root / "b", QUESTIONS, ANSWERS)
    (bank / "img").mkdir()
    shutil.copyfile(Path(__file__).parent / "banks" / "tiny" / "img" / "mlp-1.png",
                    bank / "img" / "a.png")
    out = root / "out"
    with (bank / "deckgen.toml").open("a") as f:
        f.write('formats = ["apkg"]\n')
    build(bank, out)
    col = new_collection(root)
    import_apkg(col, next(out.glob("*.apkg")))
    cards, css = [], ""
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        css = card.note_type()["css"]
        ref = card.note()["Ref"]
        cards.append({"name": f"{ref} card {card.ord} front", "html": card.question()})
        cards.append({"name": f"{ref} card {card.ord} back", "html": card.answer()})
    return cards, css


def test_hostile_cards_run_nothing_in_ankis_mathjax(rendered, anki_mathjax, chromium,
                                                    tmp_path: Path) -> None:
    cards, css = rendered
    assert len(cards) == 2 * 9
    result = run_page(chromium, anki_mathjax, cards, css, tmp_path)
    assert result["errors"] == []
    assert result["pwned"] == []  # no script, handler or link ran
    assert [(c["name"], c["found"]) for c in result["cards"] if c["found"]] == []
    assert result["macros_intact"]  # no card redefined a command for the others
    # MathJax did typeset the cards' ordinary math (the page is not simply dead)
    assert sum(c["formulas"] for c in result["cards"]) >= 10


def test_the_checks_catch_the_same_payloads_when_not_neutralised(anki_mathjax, chromium,
                                                                  tmp_path: Path) -> None:
    raw = [
        {"name": "href", "html": rf"\(\href{{javascript:{PWN}('href')}}{{x}}\)"},
        {"name": "style", "html": r"\(\class{pwned-class}{b} \cssId{pwned-id}{c} "
                                  r"\style{background:url(https://tracker.example/x)}{d}\)"},
        {"name": "macro", "html": r"\(\def\frac#1#2{PWNEDMACRO}\)"},
        {"name": "handler", "html": f"<img src='nothing.png' onerror=\"{PWN}('img')\">"},
        {"name": "script", "html": f"<script>{PWN}('script')</script>"},
        {"name": "link", "html": f"<a href=\"javascript:{PWN}('a')\">a</a>"},
    ]
    result = run_page(chromium, anki_mathjax, raw, "", tmp_path)
    assert sorted(result["pwned"]) == ["img", "script"]
    found = {c["name"]: " ".join(c["found"]) for c in result["cards"]}
    assert "url A javascript:" in found["href"] and "url A javascript:" in found["link"]
    assert all(w in found["style"] for w in ("class from", "id from", "style from"))
    assert "handler IMG onerror" in found["handler"]
    assert not result["macros_intact"]
