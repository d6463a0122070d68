"""The matching steps of deckgen.identity.assign, one by one, on plain lock entries (fast)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from deckgen import identity
from deckgen.errors import Location
from deckgen.identity import Entry, Lock, match_ids, match_same_text, match_similar


def lock(*texts: tuple[str, str]) -> Lock:
    return Lock(Path("deckgen.lock"), [Entry(f"g{i}", "q.md", key, text)
                                       for i, (key, text) in enumerate(texts)])


def items(*parts: tuple[str, str], ids: dict[str, str] | None = None):
    return [(None, SimpleNamespace(loc=Location("q.md", n + 1), id=(ids or {}).get(key, "")),
             key, text) for n, (key, text) in enumerate(parts)]


def test_same_text_keeps_its_note_even_renumbered():
    old = lock(("1", "What is a tensor?"), ("2", "What is a perceptron?"))
    result, claimed = {}, set()
    match_same_text(items(("1", "What is a perceptron?"), ("2", "What is a tensor?")), old,
                    [0, 1], result, claimed)
    assert result == {"1": 1, "2": 0} and claimed == {0, 1}


def test_same_text_twice_prefers_the_same_key():
    old = lock(("1", "Why?"), ("2", "Why?"))
    result: dict = {}
    match_same_text(items(("2", "Why?")), old, [0, 1], result, set())
    assert result == {"2": 1}


def test_similar_text_goes_to_its_best_match_not_the_first():
    old = lock(("1", "What is a perceptron?"), ("2", "Name the activation of a perceptron."))
    result: dict = {}
    diags = match_similar(items(("1", "What is a tensor?"),
                                ("2", "What is a perceptron, briefly?")),
                          old, [0, 1], result, set())
    assert diags == [] and result.get("2") == 0 and "1" not in result


def test_too_different_text_is_a_new_note():
    old = lock(("1", "What does dropout do at test time?"))
    result: dict = {}
    match_similar(items(("1", "Which optimiser uses second moments?")), old, [0], result, set())
    assert result == {}


def test_beyond_the_limit_a_warning_says_so(monkeypatch):
    monkeypatch.setattr(identity, "MAX_PAIRS", 3)
    old = lock(*[(str(i), f"Old question number {i}?") for i in range(2)])
    result: dict = {}
    [d] = match_similar(items(*[(str(i), f"Old question number {i}, edited?") for i in range(2)]),
                        old, [0, 1], result, set())
    assert d.code == "identity-limit" and result == {} and d.loc == Location("q.md", 1)


def test_explicit_ids_win_and_duplicates_are_errors():
    old = Lock(Path("deckgen.lock"), [Entry(identity.note_guid("id", "bias"), "q.md", "7", "x")])
    result: dict = {}
    claimed: set = set()
    diags = match_ids(items(("1", "a"), ("2", "b"), ids={"1": "bias", "2": "bias"}), old, [0],
                      {e.guid: e for e in old.entries}, "", {}, result, claimed)
    assert result == {"1": old.entries[0].guid} and claimed == {0}
    assert [d.code for d in diags] == ["duplicate-id"]
