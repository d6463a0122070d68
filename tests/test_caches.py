"""Caches and state are data: a cache shipped inside a bank is never trusted, and no cache or
state file, whatever it holds, breaks a build, names a file outside the cache or reaches a card.

The "stranger" of these tests is another deckgen user (another cache key) who built the bank,
left its ``build/`` folder in it and doctored the cache, MACs under their own key included.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import threading
from pathlib import Path

import pytest

from conftest import TINY, build, cards_json, write_bank
from deckgen import trustcache
from deckgen.atomic import Staging
from deckgen.execute import cache as cells_cache
from deckgen.execute.cache import Cache
from deckgen.render import pdf as pdf_module
from deckgen.render.anki import MtimeState
from deckgen.render.typst_markup import MATH_FORMAT, MathConverter, _math_fields, svg_name

KEY = "ab" + "0" * 62  # a cell cache key (its shape: 64 hex digits)
DIGEST = "cd" * 32
DEEP = "[" * 100_000 + "]" * 100_000
BAD_JSON = {"list": "[]", "dict": '{"a": 1}', "string": '"x"', "null": "null", "deep": DEEP,
            "deep-dict": '{"a": ' * 20_000 + "1" + "}" * 20_000, "number": "1e999",
            "not-json": "{not json", "binary": "\udcff"}


def _bad_bytes(value: str) -> bytes:
    return value.encode("utf-8", "surrogateescape")


@pytest.fixture(autouse=True)
def user_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This user's key file, outside every bank (never the real ~/.config)."""
    path = tmp_path / "config" / "deckgen" / "cache-key"
    monkeypatch.setenv(trustcache.KEY_ENV, str(path))
    return path


def _as(monkeypatch: pytest.MonkeyPatch, key_file: Path) -> None:
    monkeypatch.setenv(trustcache.KEY_ENV, str(key_file))


def _pdf_text(path: Path) -> str:
    import pymupdf
    return "".join(page.get_text() for page in pymupdf.open(path))


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.is_symlink()}


# --- the key ------------------------------------------------------------------------------

def test_the_key_is_created_private_once_and_kept(user_key: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch):
    assert not user_key.exists()
    first = trustcache.secret()
    assert user_key.is_file() and stat.S_IMODE(user_key.stat().st_mode) == 0o600
    assert bytes.fromhex(user_key.read_text().strip()) == first and len(first) == 32
    trustcache.forget()  # a new process reads the same key back
    assert trustcache.secret() == first
    mac = trustcache.mac("x", "y")
    _as(monkeypatch, tmp_path / "other" / "cache-key")
    assert trustcache.mac("x", "y") != mac
    # fields are length-prefixed: moving a boundary changes the MAC
    assert trustcache.mac("ab", "c") != trustcache.mac("a", "bc")


def test_a_damaged_or_unusable_key_file_still_gives_a_key(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch):
    damaged = tmp_path / "damaged"
    damaged.write_text("not a key\n")
    _as(monkeypatch, damaged)
    key = trustcache.secret()
    assert bytes.fromhex(damaged.read_text().strip()) == key  # replaced by a good one
    (tmp_path / "a-file").write_text("")
    _as(monkeypatch, tmp_path / "a-file" / "cache-key")  # cannot be created
    assert len(trustcache.secret()) == 32 and trustcache.mac("x")


def test_the_default_key_file_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(trustcache.KEY_ENV)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert trustcache.key_file() == tmp_path / "xdg" / "deckgen" / "cache-key"
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert trustcache.key_file() == tmp_path / "home" / ".config" / "deckgen" / "cache-key"


# --- reading and writing cache files --------------------------------------------------------

def test_reads_take_regular_files_only_and_never_block(tmp_path: Path):
    target = tmp_path / "real.json"
    target.write_text('{"a": 1}')
    assert trustcache.read_json(target, 100) == {"a": 1}
    assert trustcache.read_json(target, 5) is None  # too big
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert trustcache.read_json(link, 100) is None
    assert trustcache.read_json(tmp_path, 100) is None  # a folder
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    got: list[object] = []
    reader = threading.Thread(target=lambda: got.append(trustcache.read_json(fifo, 100)),
                              daemon=True)
    reader.start()
    reader.join(5)
    assert got == [None], "reading a FIFO shipped in a cache blocked"
    for name, value in BAD_JSON.items():
        (tmp_path / name).write_bytes(_bad_bytes(value))
        trustcache.read_json(tmp_path / name, 10**7)  # never raises


def test_writes_never_go_through_a_symlinked_folder(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "cache"
    root.mkdir()
    (root / "pdf").symlink_to(outside)
    assert not trustcache.write(root, root / "pdf" / "math-2.json", b"{}")
    assert not trustcache.write(root, root / ".." / "escape.json", b"{}")
    assert not trustcache.write(root, tmp_path / "escape.json", b"{}")
    linked_root = tmp_path / "linked-cache"
    linked_root.symlink_to(outside)
    assert not trustcache.write(linked_root, linked_root / "ab" / "x.json", b"{}")
    assert list(outside.iterdir()) == [] and not (tmp_path / "escape.json").exists()
    assert trustcache.write(root, root / "ab" / "x.json", b"{}")
    assert (root / "ab" / "x.json").read_bytes() == b"{}"


# --- cell results ------------------------------------------------------------------------

RESULTS = [{"outputs": [{"type": "stream", "data": {"text/plain": "42\n"}}]}, {"value": "7"}]


def test_cell_results_count_only_when_this_user_wrote_them(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch):
    cache = Cache(tmp_path / "cache")
    cache.put(KEY, RESULTS)
    assert cache.get(KEY, 2) == RESULTS
    assert cache.get(KEY, 3) is None  # another number of units
    _as(monkeypatch, tmp_path / "stranger-key")
    assert cache.get(KEY, 2) is None  # written under another key: a miss
    cache.put(KEY, RESULTS)
    assert cache.get(KEY, 2) == RESULTS
    # an entry moved to another key's file is a miss (the MAC covers the key)
    other = "cd" + "1" * 62
    cache.path(other).parent.mkdir(parents=True, exist_ok=True)
    cache.path(other).write_text(cache.path(KEY).read_text().replace(KEY, other))
    assert cache.get(other, 2) is None
    # and so is one whose results were changed
    cache.path(KEY).write_text(cache.path(KEY).read_text().replace("42", "43"))
    assert cache.get(KEY, 2) is None


@pytest.mark.parametrize("bad", [
    *BAD_JSON.values(),
    json.dumps({"key": KEY, "results": RESULTS}),  # no MAC (an entry of before)
    json.dumps({"key": KEY, "results": RESULTS, "mac": "0" * 64}),
    json.dumps({"key": KEY, "results": RESULTS, "mac": None}),
    f'{{"key": "{KEY}", "mac": "{"0" * 64}", "results": {json.dumps(RESULTS)}}}',
    f'{{"key": "{KEY}", "mac": "{"0" * 64}", "results": {DEEP}}}',
    json.dumps({"key": "../../x", "results": RESULTS, "mac": "0" * 64}),
])
def test_a_cell_results_entry_of_any_wrong_shape_is_a_miss(tmp_path: Path, bad: str):
    cache = Cache(tmp_path / "cache")
    cache.put(KEY, RESULTS)
    cache.path(KEY).write_bytes(_bad_bytes(bad))
    assert cache.get(KEY, 2) is None
    (cache.root / cells_cache.RUNS_NAME).write_bytes(_bad_bytes(bad))
    assert cache.runs() == {}
    cache.record_runs({KEY: {"question": 1, "seconds": 0.5, "error": None}})
    assert cache.runs() == {KEY: {"question": 1, "seconds": 0.5, "error": None}}


@pytest.mark.parametrize("results", [
    [{"value": 1}, {"value": "7"}],
    [{"value": "6"}, {"value": ["7"]}],
    [{"outputs": {"type": "stream"}}, {}],
    [{"outputs": [{"type": "stream", "data": {"text/plain": ["42"]}}]}, {}],
    [{"outputs": [{"type": "stream", "data": {"text/plain": "4"}, "x": 1}]}, {}],
    [{"outputs": [["stream"]]}, {}],
    [{"value": "6", "extra": {"deep": [1]}}, {}],
    [[{"value": "6"}], {}],
    ["x", None],
])
def test_cell_results_of_the_wrong_shape_are_a_miss_even_with_a_good_mac(tmp_path: Path,
                                                                          results):
    cache = Cache(tmp_path / "cache")
    cache.put(KEY, results)  # sealed with this user's key, as any entry it writes
    assert cache.path(KEY).is_file()
    assert cache.get(KEY, 2) is None


def test_cell_results_too_deep_to_parse_are_a_miss_even_with_a_good_mac(tmp_path: Path):
    cache = Cache(tmp_path / "cache")
    cache.put(KEY, RESULTS)
    body = DEEP.encode()
    mac = trustcache.mac(*cells_cache._fields(KEY, body))
    cache.path(KEY).write_bytes(
        f'{{"key": "{KEY}", "mac": "{mac}", "results": '.encode() + body + b"}")
    assert cache.get(KEY, 2) is None


def test_run_records_of_the_wrong_shape_or_another_key_are_left_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    cache = Cache(tmp_path / "cache")
    good = {"question": 3, "seconds": 12.5, "error": None}
    cache.record_runs({KEY: good})
    records = json.loads((cache.root / cells_cache.RUNS_NAME).read_text())
    for key, run in [("cd" * 32, {"question": "3", "seconds": 1, "error": None}),
                     ("ef" * 32, {"question": 3, "seconds": "slow", "error": None}),
                     ("0f" * 32, {"question": 3, "seconds": 1, "error": ["x"]}),
                     ("../x", {"question": 3, "seconds": 1, "error": None})]:
        records[key] = {**run, "mac": trustcache.mac(*cells_cache._run_fields(key, run))}
    records["12" * 32] = [1, 2]
    (cache.root / cells_cache.RUNS_NAME).write_text(json.dumps(records))
    assert cache.runs() == {KEY: good}
    _as(monkeypatch, tmp_path / "stranger-key")
    assert cache.runs() == {}


# --- the .apkg state ---------------------------------------------------------------------

@pytest.mark.parametrize("bad", BAD_JSON.values())
def test_a_state_file_of_any_wrong_shape_is_no_state(tmp_path: Path, bad: str):
    path = tmp_path / ".t.apkg.state"
    path.write_bytes(_bad_bytes(bad))
    state = MtimeState(path)
    assert state.data == {}
    assert state.mtime("guid", DIGEST) == state.now
    staging = Staging()
    state.save(staging)
    staging.commit()
    assert json.loads(path.read_text()) == {"guid": [DIGEST, state.now]}


def test_state_entries_of_the_wrong_shape_count_as_new_notes(tmp_path: Path):
    path = tmp_path / ".t.apkg.state"
    path.write_text(json.dumps({
        "good": [DIGEST, 1_600_000_000], "short": [DIGEST], "long": [DIGEST, 1, 2],
        "text-stamp": [DIGEST, "1600000000"], "float-stamp": [DIGEST, 1.5],
        "bool-stamp": [DIGEST, True], "negative": [DIGEST, -1], "far-future": [DIGEST, 10**15],
        "not-a-digest": ["../x", 1_600_000_000], "nested": [[DIGEST], 1], "dict": {"a": 1},
        "note-types": None}))
    state = MtimeState(path)
    assert state.data == {"good": [DIGEST, 1_600_000_000]}
    assert state.mtime("good", DIGEST) == 1_600_000_000
    assert state.mtime("far-future", DIGEST) == state.now  # not 10**15: a new note's time


# --- the formula cache -------------------------------------------------------------------

def _converter(workdir: Path, cache: Path, converted: list[str],
               monkeypatch: pytest.MonkeyPatch) -> MathConverter:
    def convert(self, tex: str, display: bool) -> str:
        converted.append(tex)
        return f"#raw({json.dumps(tex)})"
    monkeypatch.setattr(MathConverter, "_convert", convert)
    workdir.mkdir(parents=True, exist_ok=True)
    return MathConverter(workdir, lambda: None, cache)


def _math_file(cache: Path) -> Path:
    return cache / "pdf" / f"math-{MATH_FORMAT}.json"


def _sealed(skey: str, markup: str, name: str, svg: str) -> list[str]:
    return [markup, name, svg, trustcache.mac(*_math_fields(skey, markup, name, svg))]


def test_formula_cache_entries_name_only_content_hashes(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch):
    svg = "<svg xmlns='http://www.w3.org/2000/svg'/>"
    good = svg_name(svg)
    cache = tmp_path / "cache"
    _math_file(cache).parent.mkdir(parents=True)
    escape = tmp_path / "escape.txt"
    entries = {  # each MAC'd with this user's own key: the names alone must be refused
        "0:a": _sealed("0:a", "#text(\"A\")", "../../escape.txt", "pwned"),
        "0:b": _sealed("0:b", "#text(\"B\")", str(escape), "pwned"),
        "0:c": _sealed("0:c", "#text(\"C\")", good, svg + " "),  # not the SVG's hash
        "0:d": _sealed("0:d", "#text(\"D\")", "deckgen-math-../../x.svg", svg),
        "0:e": _sealed("0:e", "#text(\"E\")", "", "pwned"),  # an SVG without a name
        "0:f": ["#text(\"F\")", "../../escape.txt", "pwned"],  # an entry of before
        "1:ok": _sealed("1:ok", f"#image(\"/{good}\")", good, svg),
    }
    _math_file(cache).write_text(json.dumps(entries))
    workdir = tmp_path / "w" / "work"
    converted: list[str] = []
    math = _converter(workdir, cache, converted, monkeypatch)
    for tex in "abcdef":
        assert math(tex, False) == f"#raw({json.dumps(tex)})"
    assert math("ok", True) == f"#image(\"/{good}\")"
    assert converted == list("abcdef")
    assert not escape.exists() and not (tmp_path / "escape.txt").exists()
    assert sorted(p.name for p in workdir.iterdir()) == [good]
    assert (workdir / good).read_text() == svg
    math.save()
    kept = json.loads(_math_file(cache).read_text())
    assert sorted(kept) == ["0:a", "0:b", "0:c", "0:d", "0:e", "0:f", "1:ok"]
    assert all(v[1] in ("", good) for v in kept.values())  # the bad names are gone
    again: list[str] = []
    math = _converter(workdir, cache, again, monkeypatch)
    for tex in "abcdef":
        math(tex, False)
    assert again == []  # this user's own entries are hits


def test_formula_cache_entries_of_another_key_are_misses(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch):
    cache = tmp_path / "cache"
    converted: list[str] = []
    math = _converter(tmp_path / "w", cache, converted, monkeypatch)
    math("x", False)
    math.save()
    user = os.environ[trustcache.KEY_ENV]
    _as(monkeypatch, tmp_path / "stranger-key")
    math = _converter(tmp_path / "w", cache, converted, monkeypatch)
    math("x", False)
    assert converted == ["x", "x"]
    # back under this user's key, an entry whose markup was changed is a miss too
    monkeypatch.setenv(trustcache.KEY_ENV, user)
    stored = json.loads(_math_file(cache).read_text())
    stored["0:x"][0] = '#read("/etc/hostname")'
    _math_file(cache).write_text(json.dumps(stored))
    math = _converter(tmp_path / "w", cache, converted, monkeypatch)
    assert math("x", False) == '#raw("x")' and converted == ["x", "x", "x"]


@pytest.mark.parametrize("bad", BAD_JSON.values())
def test_a_formula_cache_of_any_wrong_shape_is_a_miss(tmp_path: Path, bad: str,
                                                      monkeypatch: pytest.MonkeyPatch):
    cache = tmp_path / "cache"
    _math_file(cache).parent.mkdir(parents=True)
    _math_file(cache).write_bytes(_bad_bytes(bad))
    converted: list[str] = []
    math = _converter(tmp_path / "w", cache, converted, monkeypatch)
    assert math("x", True) == '#raw("x")' and converted == ["x"]
    math.save()
    assert list(json.loads(_math_file(cache).read_text())) == ["1:x"]


# --- the typeset chunks ------------------------------------------------------------------

def _chunk(cache: Path, key: str, data: bytes, starts, plain, mac: str | None = None) -> Path:
    pdf = cache / "pdf" / f"{key}.pdf"
    pdf.parent.mkdir(parents=True, exist_ok=True)
    pdf.write_bytes(data)
    if mac is None:
        mac = trustcache.mac(*pdf_module._chunk_fields(key, data, starts, plain))
    pdf.with_suffix(".json").write_text(json.dumps({"starts": starts, "plain": plain,
                                                    "mac": mac}))
    return pdf


def test_a_typeset_chunk_counts_only_when_this_user_wrote_it(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch):
    key, data = "0" * 24, b"%PDF-1.7 stand-in"
    pdf = _chunk(tmp_path, key, data, [1, 2, 3], {"0": "reason"})
    assert pdf_module._read_cached(pdf, 2) == (data, [1, 2, 3], {0: "reason"})
    pdf.write_bytes(data + b" changed")  # the PDF is covered by the MAC
    assert pdf_module._read_cached(pdf, 2) is None
    pdf.write_bytes(data)
    _as(monkeypatch, tmp_path / "stranger-key")
    assert pdf_module._read_cached(pdf, 2) is None


@pytest.mark.parametrize("starts, plain", [
    ([1, 2], {}), ([1, 2, 3, 4], {}), ([1, "2", 3], {}), ([1, 2.0, 3], {}), ([1, True, 3], {}),
    ([0, 1, 2], {}), ([3, 2, 4], {}), ([1, 2, 10**12], {}), ([[1], 2, 3], {}),
    ([1, 2, 3], {"x": "r"}), ([1, 2, 3], {"5": "r"}), ([1, 2, 3], {"0": 1}),
    ([1, 2, 3], {"0": ["r"]}), ([1, 2, 3], {"-1": "r"}), ([1, 2, 3], []),
])
def test_a_chunk_of_the_wrong_shape_is_a_miss_even_with_a_good_mac(tmp_path: Path, starts,
                                                                    plain):
    key = "1" * 24
    mac = trustcache.mac(*pdf_module._chunk_fields(key, b"%PDF-", starts, plain))
    assert pdf_module._read_cached(_chunk(tmp_path, key, b"%PDF-", starts, plain, mac),
                                   2) is None


@pytest.mark.parametrize("bad", BAD_JSON.values())
def test_a_chunk_of_any_wrong_json_is_a_miss(tmp_path: Path, bad: str):
    pdf = _chunk(tmp_path, "2" * 24, b"%PDF-", [1, 2, 3], {})
    pdf.with_suffix(".json").write_bytes(_bad_bytes(bad))
    assert pdf_module._read_cached(pdf, 2) is None
    pdf.with_suffix(".json").unlink()
    pdf.write_bytes(_bad_bytes(bad))
    assert pdf_module._read_cached(pdf, 2) is None


# --- whole builds ------------------------------------------------------------------------

def _stranger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """The tiny bank as a stranger built it (their key), ``build/`` folder included."""
    key = tmp_path / "stranger" / "cache-key"
    bank = tmp_path / "stranger" / "tiny"
    shutil.copytree(TINY, bank)
    user = os.environ[trustcache.KEY_ENV]
    _as(monkeypatch, key)
    build(bank, bank / "build")
    monkeypatch.setenv(trustcache.KEY_ENV, user)
    return bank, key


def _ship(bank: Path, dest: Path) -> Path:
    """The stranger's bank as this user downloads it (without the stranger's build record)."""
    shutil.copytree(bank, dest, symlinks=True)
    (dest / "build" / ".deckgen-build.json").unlink()
    return dest


@pytest.mark.slow
def test_own_cache_entries_are_hits(tiny: Path, monkeypatch: pytest.MonkeyPatch):
    out = tiny / "build"
    assert build(tiny, out).executed == 2
    (out / ".deckgen-build.json").unlink()  # force the full path: cache lookups, rendering

    def fail(*args, **kwargs):
        raise AssertionError("typeset or converted again")
    monkeypatch.setattr(pdf_module, "_compile_chunk", fail)
    monkeypatch.setattr(MathConverter, "_convert", fail)
    again = build(tiny, out)
    assert again.executed == 0 and not again.skipped
    assert "The sum is 4" in json.dumps(cards_json(out))


@pytest.mark.slow
def test_a_shipped_formula_cache_writes_nothing_outside_and_puts_no_markup_on_a_card(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    stranger, stranger_key = _stranger(tmp_path, monkeypatch)
    user = os.environ[trustcache.KEY_ENV]
    math_file = _math_file(stranger / "build" / "cache")
    stored = json.loads(math_file.read_text())
    assert len(stored) >= 3
    escape_abs = tmp_path / "abs-escape.txt"
    markups = ['#text("INJECTED-MARKUP")', '#read("/etc/hostname")', '#panic("x")']
    names = ["../../escape.txt", str(escape_abs), "../../../escape.txt"]
    _as(monkeypatch, stranger_key)  # forged with the stranger's own key: a valid MAC there
    forged = {}
    for i, skey in enumerate(sorted(stored)):
        markup, name = markups[i // 3 % 3], names[i // 3 % 3]
        forged[skey] = [  # as the original attack had it; MAC'd; MAC'd with a good name
            [markup, name, "pwned"], _sealed(skey, markup, name, "pwned"),
            _sealed(skey, '#text("INJECTED-MARKUP")', "", "")][i % 3]
    math_file.write_text(json.dumps(forged))
    # the forgery works where its MAC is valid: the stranger's own rebuild prints it
    own = _ship(stranger, tmp_path / "stranger-again" / "tiny")
    build(own, own / "build", execute=False)
    assert "INJECTED-MARKUP" in _pdf_text(own / "build" / "tiny-cards.pdf")
    monkeypatch.setenv(trustcache.KEY_ENV, user)

    bank = _ship(stranger, tmp_path / "downloads" / "tiny")
    # the PDF's work folder, two levels below tmp_path: "../../escape.txt" would land here
    work_tmp = tmp_path / "sys-tmp" / "inner"
    work_tmp.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(work_tmp))
    before = _files(tmp_path)
    result = build(bank, bank / "build", execute=False)
    assert not result.skipped
    assert not [d for d in result.diagnostics if d.code == "pdf-plain-text"]
    from deckgen import config
    from deckgen.pipeline import gather
    cfg = config.override(config.load(bank), out=bank / "build")
    pdf_module.static_formula_warnings(gather(cfg).banks, cfg.cache_dir)  # `deckgen check`
    after = _files(tmp_path)
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    # (genanki leaves its temporary database, "tmp<random>", in the temporary folder)
    allowed = ("downloads/tiny/build/", "downloads/tiny/deckgen.lock", "config/",
               "sys-tmp/inner/tmp", "stranger-again/")
    assert changed and [p for p in changed if not p.startswith(allowed)] == []
    assert not escape_abs.exists() and not list(tmp_path.rglob("escape.txt"))
    assert [p.name for p in work_tmp.iterdir() if p.name.startswith("deckgen-")] == []
    text = _pdf_text(bank / "build" / "tiny-cards.pdf")
    assert "INJECTED" not in text and "pwned" not in text and "What is" in text
    # the shipped entries were replaced by this user's own
    kept = json.loads(_math_file(bank / "build" / "cache").read_text())
    assert all(v[1] not in names and v[2] != "pwned" for v in kept.values())


def _forged_pdf(pages: int) -> bytes:
    import typst
    body = "\n#pagebreak()\n".join(["FORGED-CHUNK"] * pages)
    return typst.compile(f"#set page(width: 95mm, height: 65mm)\n{body}\n".encode(),
                         format="pdf", ignore_system_fonts=True)


@pytest.mark.slow
def test_a_shipped_typeset_chunk_is_never_printed(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch):
    stranger, stranger_key = _stranger(tmp_path, monkeypatch)
    user = os.environ[trustcache.KEY_ENV]
    _as(monkeypatch, stranger_key)
    chunks = [p for p in (stranger / "build" / "cache" / "pdf").glob("*.json")
              if not p.name.startswith("math-")]
    assert len(chunks) == 2
    for info_path in chunks:
        info = json.loads(info_path.read_text())
        data = _forged_pdf(info["starts"][-1] - 1)
        info_path.with_suffix(".pdf").write_bytes(data)
        info["mac"] = trustcache.mac(*pdf_module._chunk_fields(info_path.stem, data,
                                                                info["starts"], info["plain"]))
        info_path.write_text(json.dumps(info))
    # the forgery works where its MAC is valid: the stranger's own rebuild prints it
    (stranger / "build" / ".deckgen-build.json").unlink()
    build(stranger, stranger / "build", execute=False)
    assert "FORGED-CHUNK" in _pdf_text(stranger / "build" / "tiny-cards.pdf")

    monkeypatch.setenv(trustcache.KEY_ENV, user)
    bank = _ship(stranger, tmp_path / "downloads" / "tiny")
    build(bank, bank / "build")  # cells run: the very cards, so the very chunks, are looked up
    text = _pdf_text(bank / "build" / "tiny-cards.pdf")
    assert "FORGED-CHUNK" not in text and "What is" in text
    for info_path in chunks:  # each looked up, refused, typeset again and kept as this user's
        shipped = info_path.with_suffix(".pdf").read_bytes()
        assert (bank / "build" / "cache" / "pdf" / f"{info_path.stem}.pdf").read_bytes() \
            != shipped


@pytest.mark.slow
def test_shipped_cell_results_are_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    stranger, stranger_key = _stranger(tmp_path, monkeypatch)
    user = os.environ[trustcache.KEY_ENV]
    _as(monkeypatch, stranger_key)
    cache = Cache(stranger / "build" / "cache")
    entries = [p for p in cache.root.glob("??/*.json") if p.parent.name != "pdf"]
    assert len(entries) == 2
    for entry in entries:
        results = json.loads(entry.read_text())["results"]
        forged = [{"value": "STRANGER-VALUE"} if "value" in r else
                  {"outputs": [{"type": "stream", "data": {"text/plain": "STRANGER-VALUE"}}]}
                  for r in results]
        cache.put(entry.stem, forged)
    (stranger / "build" / ".deckgen-build.json").unlink()
    result = build(stranger, stranger / "build", execute=False)  # where the forgery works
    assert not result.diagnostics and "STRANGER-VALUE" in json.dumps(cards_json(
        stranger / "build"))

    monkeypatch.setenv(trustcache.KEY_ENV, user)
    bank = _ship(stranger, tmp_path / "downloads" / "tiny")
    result = build(bank, bank / "build", execute=False)
    assert [d.code for d in result.diagnostics] == ["not-computed", "not-computed"]
    assert result.executed == 0
    assert "STRANGER-VALUE" not in json.dumps(cards_json(bank / "build"))
    (bank / "build" / ".deckgen-build.json").unlink()
    result = build(bank, bank / "build")  # executed: computed again, and kept as this user's
    assert result.executed == 2 and "The sum is 4" in json.dumps(cards_json(bank / "build"))
    (bank / "build" / ".deckgen-build.json").unlink()
    assert build(bank, bank / "build", execute=False).diagnostics == []


SMALL_Q = "1. What is $x^2$?\n\n---\n\n2. And $$\\frac{1}{2}$$?\n"
SMALL_A = "## 1\n```{python}\nprint(6 * 7)\n```\n\n## 2\nIt is `{python} 1 / 2`.\n"


def _spoil(out: Path, value: str) -> list[Path]:
    files = [p for p in (out / "cache").rglob("*") if p.is_file()]
    files.append(out / ".t.apkg.state")
    for p in files:
        p.write_bytes(_bad_bytes(value))
    (out / ".deckgen-build.json").unlink(missing_ok=True)
    return files


@pytest.mark.slow
@pytest.mark.parametrize("name", BAD_JSON)
def test_every_cache_and_state_file_of_the_wrong_shape_gives_a_working_build(tmp_path: Path,
                                                                             name: str):
    bank = write_bank(tmp_path / "b", SMALL_Q, SMALL_A)
    out = bank / "build"
    build(bank, out)
    assert len(_spoil(out, BAD_JSON[name])) >= 6  # cells x2, runs, math, chunk + info, state
    for rerun in (False, True):
        result = build(bank, out, rerun=rerun)
        assert result.executed == 2
        assert "42" in json.dumps(cards_json(out)) and "0.5" in json.dumps(cards_json(out))
        assert "What is" in _pdf_text(out / "t-cards.pdf")
        _spoil(out, BAD_JSON[name])
    assert build(bank, out, execute=False).deck is not None  # and without running anything


@pytest.mark.slow
def test_a_symlinked_cache_folder_takes_no_write_outside(tmp_path: Path):
    bank = write_bank(tmp_path / "b", SMALL_Q, SMALL_A)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "pdf").mkdir(parents=True)
    (bank / "build" / "cache").mkdir(parents=True)
    (bank / "build" / "cache" / "pdf").symlink_to(elsewhere / "pdf")
    result = build(bank, bank / "build")
    assert result.executed == 2 and list((elsewhere / "pdf").iterdir()) == []
    shutil.rmtree(bank / "build")
    (bank / "build").mkdir()
    (bank / "build" / "cache").symlink_to(elsewhere)
    build(bank, bank / "build")
    assert sorted(p.name for p in elsewhere.rglob("*")) == ["pdf"]
