"""``deckgen serve``: the cards as Anki shows them, on a local page that follows the edits.

- the preview fills the note types' templates exactly as the real Anki backend does (its
  ``card.question()`` and ``card.answer()``), card by card;
- the server answers only under its own name and only with its own files;
- in a real browser (Debian's chromium, driven by selenium through chromedriver): the page
  loads, the math is typeset by Anki's MathJax, night mode switches, the filters filter, and
  an edit to the bank appears on the page without a reload.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from anki_helpers import import_apkg, new_collection
from conftest import build, write_bank
from deckgen import config
from deckgen.pipeline import gather, make_deck
from deckgen.preview import deck_data, note_templates, sides
from deckgen.serve import Preview, make_server
from test_browser_cards import anki_mathjax, chromium  # noqa: F401 (fixtures)

QUESTIONS = r"""## Kinds

1. What is $\frac{a}{b}$ when $a = b$?

---

2. The [...] layer normalizes per [...], as in "a-b: c/d (é)".

---

3. **True or False:** ReLU is linear.

---

4. Which is a loss? Choose one:
   1. Cross-entropy
   2. Dropout

## Later

5. Not answered yet?
"""
ANSWERS = r"""## 1
It is $1$.

## 2
1. batch <norm> & co
2. channel (a-b: c/d é)

## 3
**False.** It is piecewise linear.

## 4
Correct: 1
"""


def _norm(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<style>.*?</style>", "", html, flags=re.DOTALL)).strip()


def test_the_preview_fills_the_templates_as_anki_does(tmp_path: Path):
    bank = write_bank(tmp_path / "b", QUESTIONS, ANSWERS)
    build(bank, tmp_path / "out")
    cfg = config.load(bank)
    deck, _, _ = make_deck(cfg, gather(cfg))
    templates, _ = note_templates()
    mine = {(c.ref, s.name): (s.front, s.back) for c in deck.cards for s in sides(c, templates)}
    (tmp_path / "col").mkdir()
    col = new_collection(tmp_path / "col")
    import_apkg(col, next((tmp_path / "out").glob("*.apkg")))
    compared = 0
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        front, back = mine[(card.note()["Ref"], f"card {card.ord + 1}")]
        assert _norm(front) == _norm(card.question()), card.note()["Ref"]
        assert _norm(back) == _norm(card.answer()), card.note()["Ref"]
        compared += 1
    assert compared == len(mine) == 6  # the cloze makes two cards
    col.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, host: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def test_the_server_answers_only_under_its_name_and_with_its_own_files(tmp_path: Path):
    js = tmp_path / "js"
    (js / "vendor" / "mathjax").mkdir(parents=True)
    (js / "mathjax.js").write_text("window.MathJax = {};")
    (js / "vendor" / "mathjax" / "tex-chtml-full.js").write_text("// mathjax")
    (tmp_path / "secret.txt").write_text("secret")
    preview = Preview()
    preview.publish({"cards": []}, {"deckgen-0123456789abcdef0123.png": b"\x89PNG"})
    server = make_server(preview, js, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert _get(base + "/")[0] == 200
        assert json.loads(_get(base + "/deck.json")[1])["version"] == 1
        assert _get(base + "/media/deckgen-0123456789abcdef0123.png") == (200, b"\x89PNG")
        assert _get(base + "/mathjax/vendor/mathjax/tex-chtml-full.js")[0] == 200
        assert _get(base + "/deck.json", host="attacker.example")[0] == 403  # DNS rebinding
        for bad in ("/media/../secret.txt", "/mathjax/../secret.txt",
                    "/mathjax/%2e%2e/secret.txt", "/media/other.png", "/secret.txt"):
            assert _get(base + bad)[0] == 404, bad
        started = time.perf_counter()  # the live-reload wait returns when a build lands
        threading.Timer(0.3, lambda: preview.publish({"cards": []}, {})).start()
        assert json.loads(_get(base + "/version?since=1")[1]) == {"version": 2}
        assert time.perf_counter() - started < 5
    finally:
        server.shutdown()


def test_warnings_are_shown_with_the_card_they_are_about(tmp_path: Path):
    bank = write_bank(tmp_path / "b", QUESTIONS, ANSWERS)
    cfg = config.load(bank)
    gathered = gather(cfg)
    deck, diags, _ = make_deck(cfg, gathered)
    templates, css = note_templates()
    data = deck_data(deck, templates, css, diags, 1)
    [missing] = [d for d in data["diagnostics"] if d["code"] == "missing-answer"]
    assert missing["card"] == "Q5" and missing["where"].endswith("q.md:21")
    assert [c["diagnostics"] for c in data["cards"] if c["ref"] == "Q5"] == [
        [data["diagnostics"].index(missing)]]


@pytest.fixture(scope="module")
def driver(chromium):  # noqa: F811
    selenium = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    chromedriver = shutil.which("chromedriver")
    if chromedriver is None:
        if os.environ.get("DECKGEN_REQUIRE_BROWSER") == "1":
            pytest.fail("no chromedriver (apt-get install chromium-driver)")
        pytest.skip("no chromedriver on this machine (apt-get install chromium-driver)")
    options = selenium.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1300,900"):
        options.add_argument(flag)
    browser = selenium.Chrome(service=Service(chromedriver), options=options)
    yield browser
    browser.quit()


def _wait(condition, seconds: float = 60.0, what: str = ""):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_serve_in_a_real_browser(tmp_path: Path, driver, anki_mathjax: Path):  # noqa: F811
    bank = write_bank(tmp_path / "b", QUESTIONS, ANSWERS)
    port = _free_port()
    env = dict(os.environ, DECKGEN_MATHJAX=str(anki_mathjax))
    proc = subprocess.Popen([sys.executable, "-m", "deckgen", "serve", str(bank), "--port",
                             str(port), "--no-exec"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = _wait(lambda: proc.stdout.readline(), 60, "the server")
        while "serving" not in line:
            line = proc.stdout.readline()
            assert line, "deckgen serve stopped"
        driver.get(f"http://127.0.0.1:{port}/")
        js = driver.execute_script
        _wait(lambda: js("return document.body.dataset.rendered") == "1", 60, "the cards")
        assert js("return document.querySelectorAll('.preview-card').length") == 5
        # Anki's MathJax typeset the formulas (Q1's fraction)
        _wait(lambda: js("return document.querySelectorAll('#card-Q1 mjx-container').length"),
              30, "MathJax")
        loaded = js("return window.deckgenLoadedAt")
        # night mode: the cards take Anki's night class and its dark background
        driver.find_element("id", "night").click()
        _wait(lambda: js("return document.querySelectorAll('.card.nightMode').length") > 0)
        background = js("return getComputedStyle(document.querySelector('.card')).backgroundColor")
        assert background == "rgb(43, 43, 48)", background
        # filters: unanswered cards only; the warning is listed with its file:line
        driver.find_element("id", "unanswered").click()
        _wait(lambda: js("return document.querySelectorAll('.preview-card').length") == 1)
        assert "q.md:21" in driver.find_element("id", "problems").text
        driver.find_element("id", "unanswered").click()
        # an edit to the bank reaches the page without a reload
        answers = bank / "answers" / "a.md"
        answers.write_text(ANSWERS.replace("piecewise linear", "piecewise linear, edited"))
        _wait(lambda: "piecewise linear, edited" in driver.find_element("id", "cards").text,
              60, "the edit")
        assert js("return window.deckgenLoadedAt") == loaded  # the same page, updated
        assert js("return document.body.classList.contains('night')")  # still in night mode
    finally:
        proc.terminate()
        proc.wait(timeout=30)
