"""``deckgen push`` against the real thing: Anki desktop with AnkiConnect, and a collection file.

The desktop tests start the real Anki (aqt 26.9.3, headless) with the real AnkiConnect add-on
through ``../shared/anki-desktop/start.sh`` (its README lists what it patches and why), on a
free port, in a throw-away Anki folder, and stop it with ``stop.sh``, which also checks the
collection's integrity. Without those scripts the desktop tests skip, saying so, unless
``DECKGEN_REQUIRE_ANKI_DESKTOP=1`` (``.ci/run`` sets it when the scripts are there).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest

from anki_helpers import new_collection, review_all
from conftest import ROOT, write_bank
from test_cli import run

DESKTOP = Path(os.environ.get("DECKGEN_ANKI_DESKTOP", ROOT.parent / "shared" / "anki-desktop"))
DECK = "Deep Learning Interviews"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(url: str, action: str, **params):
    body = json.dumps({"action": action, "version": 6, "params": params}).encode()
    with urllib.request.urlopen(urllib.request.Request(url, body), timeout=60) as r:
        reply = json.loads(r.read())
    assert reply["error"] is None, (action, reply)
    return reply["result"]


@pytest.fixture(scope="module")
def anki_desktop(tmp_path_factory):
    if not (DESKTOP / "start.sh").is_file():
        if os.environ.get("DECKGEN_REQUIRE_ANKI_DESKTOP") == "1":
            pytest.fail(f"no {DESKTOP}/start.sh (DECKGEN_REQUIRE_ANKI_DESKTOP=1)")
        pytest.skip(f"no Anki desktop scripts at {DESKTOP} (set DECKGEN_ANKI_DESKTOP)")
    base = tmp_path_factory.mktemp("anki-desktop") / "base"
    port = _free_port()
    started = subprocess.run(["bash", str(DESKTOP / "start.sh"), str(base), str(port)],
                             capture_output=True, text=True, timeout=900)
    assert started.returncode == 0, started.stderr[-3000:]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stopped = subprocess.run(["bash", str(DESKTOP / "stop.sh"), str(base)],
                                 capture_output=True, text=True, timeout=300)
        assert stopped.returncode == 0, stopped.stderr[-3000:]


def _state(url: str) -> dict[str, dict]:
    """Per note (by its search id): fields, tags, and per card: interval, type, reviews."""
    notes = _call(url, "notesInfo", notes=_call(url, "findNotes", query=f'"deck:{DECK}"'))
    cards = [c for n in notes for c in n["cards"]]
    info = {c["cardId"]: c for c in _call(url, "cardsInfo", cards=cards)}
    reviews = _call(url, "getReviewsOfCards", cards=[str(c) for c in cards])
    out = {}
    for n in notes:
        sid = re.search(r"dg-[0-9a-f]{10}", n["fields"]["Source"]["value"]).group(0)
        out[sid] = {"fields": {k: v["value"] for k, v in n["fields"].items()},
                    "tags": set(n["tags"]),
                    "cards": [(info[c]["interval"], info[c]["type"], len(reviews[str(c)]))
                              for c in n["cards"]]}
    return out


def _renumber_without(bank: Path, gone: int) -> None:
    """Delete question ``gone`` from the default bank and close the gap: every later question
    takes the number before its own (then `deckgen renumber --write` fixes the answers)."""
    path = bank / "deep-learning-interview-questions.md"
    text = path.read_text()
    start = re.search(rf"^{gone}\. ", text, re.MULTILINE).start()
    end = text.index("\n---\n", start) + len("\n---\n")
    text = text[:start] + text[end:]
    text = re.sub(r"^(\d+)\. ", lambda m: f"{int(m.group(1)) - 1}. "
                  if int(m.group(1)) > gone else m.group(0), text, flags=re.MULTILINE)
    path.write_text(text)


@pytest.mark.slow
def test_push_into_running_anki_updates_in_place_after_edits_and_renumbering(
        anki_desktop: str, tmp_path: Path):
    url = anki_desktop
    bank = tmp_path / "source"
    shutil.copytree(ROOT / "source", bank)
    first = run("push", str(bank), "--trust", "--url", url)
    assert first.exit_code == 0, first.output
    assert "183 new, 0 updated, 0 unchanged" in first.output
    cards = _call(url, "findCards", query=f'"deck:{DECK}"')
    assert len(cards) == 196
    assert all(_call(url, "answerCards", answers=[{"cardId": c, "ease": 3} for c in cards]))
    before = _state(url)
    assert all(n["cards"] and all(c[2] == 1 for c in n["cards"]) for n in before.values())

    # the author edits a question, deletes question 74 and renumbers the rest
    q = bank / "deep-learning-interview-questions.md"
    q.write_text(q.read_text().replace("What do you think about his idea?",
                                       "What do you make of his idea?", 1))
    (bank / "answers" / "71-97.md").write_text(re.sub(
        r"^## 74\n.*?(?=^## 75\n)", "", (bank / "answers" / "71-97.md").read_text(),
        flags=re.MULTILINE | re.DOTALL))
    _renumber_without(bank, 74)
    renumbered = run("renumber", str(bank), "--write")
    assert renumbered.exit_code == 0, renumbered.output
    assert run("accept", "--bank", str(bank), "--all").exit_code == 0

    second = run("push", str(bank), "--trust", "--url", url)
    assert second.exit_code == 0, second.output
    assert "0 new, 1 updated, 181 unchanged" in second.output, second.output
    assert "updated   Q86.5    (Front)" in second.output
    assert "1 no longer in the source (tagged deckgen::removed)" in second.output
    after = _state(url)
    assert set(after) == set(before)  # no note added, none duplicated, none deleted
    changed = {s for s in before if before[s]["fields"] != after[s]["fields"]}
    removed = {s for s in after if "deckgen::removed" in after[s]["tags"]}
    assert len(removed) == 1 and "Dropout" in after[removed.pop()]["fields"]["Front"]
    # the edited note, and only it: renumbering alone leaves the notes as they are
    assert [after[s]["fields"]["Front"].count("What do you make of his idea?")
            for s in changed] == [1]
    for s in before:  # review history and scheduling kept, for every card
        assert after[s]["cards"] == before[s]["cards"], s
    media = set(_call(url, "getMediaFilesNames", pattern="deckgen-*"))
    built = json.loads(next((tmp_path / "build").glob("*.json")).read_text())
    assert {m for c in built["cards"] for m in c["media"]} <= media

    third = run("push", str(bank), "--trust", "--url", url)  # nothing changed: nothing to do
    assert "0 new, 0 updated, 182 unchanged" in third.output, third.output
    assert "kept" not in second.output + third.output


def test_push_without_a_running_anki_says_what_to_do(tmp_path: Path):
    bank = write_bank(tmp_path / "b", "## S\n\n1. What?\n", "## 1\nThat.\n")
    result = run("push", str(bank), "--url", f"http://127.0.0.1:{_free_port()}")
    assert result.exit_code == 1
    assert "no Anki answers at http://127.0.0.1:" in result.output
    assert "AnkiConnect" in result.output and "--collection" in result.output
    assert "Traceback" not in result.output


QUESTIONS = "## S\n\n1. What is kept?\n\n---\n\n2. The [...] is kept.\n\n---\n\n3. Gone soon?\n"
ANSWERS = "## 1\nThe history.\n\n## 2\n1. review log\n\n## 3\nYes.\n"


@pytest.mark.slow
def test_push_into_a_closed_collection_file(tmp_path: Path):
    from anki.collection import Collection

    bank = write_bank(tmp_path / "b", QUESTIONS, ANSWERS)
    profile = tmp_path / "User 1"
    profile.mkdir()
    col = new_collection(profile)
    path = Path(col.path)
    col.close()
    first = run("push", str(bank), "--collection", str(path))
    assert first.exit_code == 0, first.output
    assert "3 new, 0 updated, 0 unchanged" in first.output
    assert list((profile / "backups").iterdir())  # backed up before the import

    col = Collection(str(path))
    review_all(col)
    before = {n: [(c.ivl, c.type) for c in col.get_note(n).cards()] for n in col.find_notes("")}
    # while it is open (as in a running Anki), a push refuses and changes nothing
    refused = run("push", str(bank), "--collection", str(path))
    assert refused.exit_code == 1 and "is open in Anki" in refused.output
    col.close()

    (bank / "q.md").write_text(QUESTIONS.replace("What is kept?", "What stays?")
                               .replace("\n---\n\n3. Gone soon?\n", "\n"))
    (bank / "answers" / "a.md").write_text(ANSWERS.replace("\n## 3\nYes.\n", ""))
    second = run("push", str(bank), "--collection", str(path))
    assert second.exit_code == 0, second.output
    assert "0 new, 1 updated, 1 unchanged" in second.output
    assert "1 no longer in the source (tagged deckgen::removed)" in second.output
    col = Collection(str(path))
    try:
        assert {n: [(c.ivl, c.type) for c in col.get_note(n).cards()]
                for n in col.find_notes("")} == before
        [gone] = col.find_notes("tag:deckgen::removed")
        assert "Gone soon?" in col.get_note(gone)["Front"]
        assert col.find_notes('"Front:*What stays?*"')
    finally:
        col.close()
