"""No lost edit, no lost identity, no mixed output set, no traceback for a disk fault.

- the up-to-date record is of the inputs as the build read them: a save made while a build
  runs is built by the next one;
- a lock file with duplicate GUIDs or a malformed structure stops the build with the entries
  named, and is left as it was;
- outputs, their state, the lock and the build's record are committed together: a build killed
  at any point leaves the old set or the new one (once the next command has finished an
  interrupted commit), and the next build deletes the temporary files of killed builds;
- a read-only or full disk is a message naming the path (exit 1), the previous outputs kept.
"""

from __future__ import annotations

import builtins
import errno
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT, build, write_bank
from deckgen import atomic
from deckgen.cli import main
from deckgen.errors import BuildFailed, DeckgenError
from deckgen.identity import _ENTRY_TYPES, Entry, Lock

Q1 = ("1. What does a perceptron compute, in one sentence?\n\n---\n\n2. Why does depth help?"
      "\n\n   1. Part one?\n   2. Part two?\n")
A1 = "## 1\nA.\n\n## 2.1\nB.\n\n## 2.2\nC.\n"
# the second version changes every output and the lock (a new question, a changed answer)
Q2 = Q1 + "\n---\n\n3. And how?\n"
A2 = A1.replace("B.", "B, better.") + "\n## 3\nLike so.\n"


def make_bank(tmp_path: Path) -> tuple[Path, Path]:
    bank = write_bank(tmp_path / "bank", Q1, A1)
    with open(bank / "deckgen.toml", "a") as fh:
        fh.write('formats = ["apkg", "json"]\n')
    return bank, tmp_path / "out"


def to_v2(bank: Path) -> None:
    (bank / "q.md").write_text(Q2)
    (bank / "answers" / "a.md").write_text(A2)


def outputs(bank: Path, out: Path, record: bool = True) -> dict[str, bytes]:
    """Every file a build commits: the outputs (their state and record too) and the lock."""
    files = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and
             not atomic.TEMP.fullmatch(p.name) and not atomic.JOURNAL.fullmatch(p.name)}
    if not record:
        files.pop(".deckgen-build.json", None)
    lock = bank / "deckgen.lock"
    files["deckgen.lock"] = lock.read_bytes() if lock.exists() else b""
    return files


def leftovers(*roots: Path) -> list[Path]:
    """Temporary files and journals anywhere below these folders."""
    return sorted(p for root in roots for p in root.rglob("*")
                  if p.name.endswith(".tmp") or p.name.startswith(atomic.JOURNAL_PREFIX))


def restore(bank: Path, out: Path, files: dict[str, bytes]) -> None:
    """Put a snapshot back in place (same folders: the bank folder's identity is kept)."""
    for p in list(out.iterdir()):
        if p.is_file():
            p.unlink()
    for name, data in files.items():
        (bank / name if name == "deckgen.lock" else out / name).write_bytes(data)


def cards(out: Path) -> list[dict]:
    return json.loads((out / "t.json").read_text())["cards"]


# -- 1. the fingerprint is of the inputs the build read -------------------------------------

@pytest.mark.parametrize("stage", ["cards", "render"])
def test_a_save_made_during_a_build_is_built_by_the_next_build(tmp_path, monkeypatch, stage):
    bank, out = make_bank(tmp_path)
    build(bank, out)
    q = bank / "q.md"

    def save_now() -> None:  # the author saves while the build is in its middle
        q.write_text(Q1.replace("in one sentence", "in one sentence, saved mid-build"))

    if stage == "cards":
        from deckgen import cards as cards_module
        real_build_deck = cards_module.build_deck

        def build_deck(*args, **kwargs):
            result = real_build_deck(*args, **kwargs)
            save_now()
            return result
        monkeypatch.setattr(cards_module, "build_deck", build_deck)
    else:
        from deckgen.render import jsonlist
        real_call = jsonlist.JsonRenderer.render

        def call(self, *args, **kwargs):
            save_now()
            return real_call(self, *args, **kwargs)
        monkeypatch.setattr(jsonlist.JsonRenderer, "render", call)
    (bank / "answers" / "a.md").write_text(A1.replace("A.", "A, edited."))
    during = build(bank, out)
    assert not during.skipped
    monkeypatch.undo()
    after = build(bank, out)
    assert not after.skipped, "the save made during the last build was taken as built"
    assert "saved mid-build" in cards(out)[0]["front"]
    assert build(bank, out).skipped


def test_the_lock_a_build_writes_does_not_make_the_next_build_stale(tmp_path):
    bank, out = make_bank(tmp_path)
    assert not (bank / "deckgen.lock").exists()
    assert not build(bank, out).skipped  # writes the lock for the first time
    assert build(bank, out).skipped
    to_v2(bank)
    assert not build(bank, out).skipped  # changes the lock
    assert build(bank, out).skipped


def test_a_lock_changed_since_the_last_build_makes_the_next_build_run(tmp_path):
    bank, out = make_bank(tmp_path)
    build(bank, out)
    lock = bank / "deckgen.lock"
    first = lock.read_bytes()
    to_v2(bank)
    build(bank, out)
    lock.write_bytes(first)  # e.g. a checkout of an older lock
    assert not build(bank, out).skipped


@pytest.mark.parametrize("record", [
    "[]", '{"version": 2}', '{"version": 2, "fingerprint": 1, "lock": "", "outputs": {}, '
    '"summary": {}, "diagnostics": []}', "{" * 100_000, "\0\1\2"])
def test_a_record_of_the_wrong_shape_is_no_record(tmp_path, record):
    bank, out = make_bank(tmp_path)
    build(bank, out)
    (out / ".deckgen-build.json").write_text(record)
    assert not build(bank, out).skipped
    assert build(bank, out).skipped


def test_a_record_that_came_with_the_bank_folder_is_not_trusted(tmp_path):
    """A bank folder put in place of another (unpacked, cloned) at the same path: a record
    and outputs that came with it are not taken for this machine's last build."""
    import shutil

    bank, out = make_bank(tmp_path)
    (bank / "deckgen.toml").write_text((bank / "deckgen.toml").read_text() + 'out = "build"\n')
    build(bank, bank / "build")
    assert build(bank, bank / "build").skipped
    shutil.copytree(bank, tmp_path / "copy")
    shutil.rmtree(bank)
    (tmp_path / "copy").rename(bank)
    assert not build(bank, bank / "build").skipped


# -- 2. the lock file is validated ----------------------------------------------------------

def entry(**kw) -> dict:
    return {"guid": "g1", "file": "q.md", "key": "1", "text": "What does it compute?", **kw}


@pytest.mark.parametrize("lock,expected", [
    ({"version": 1, "notes": {}}, "'notes' must be a list of entries, not an object"),
    ({"version": 1, "notes": []}, "'notes' is empty"),
    ({"version": 1}, "'notes' is missing"),
    ({"notes": [entry()]}, "'version' is missing"),
    ({"version": "1", "notes": [entry()]}, 'unknown lock version "1"'),
    ({"version": True, "notes": [entry()]}, "unknown lock version true"),
    ([entry()], "the lock must be a JSON object, not a list"),
    ("notes", "the lock must be a JSON object, not a string"),
    ({"version": 1, "notes": [entry(), 3]},
     "entry 2 (line 5): an entry must be an object, not a whole number"),
    ({"version": 1, "notes": [entry(guid=7)]},
     "entry 1 (key 1, line 4): 'guid' must be a string, not 7"),
    ({"version": 1, "notes": [entry(guid=" ")]}, "'guid' is empty"),
    ({"version": 1, "notes": [{"guid": "g", "file": "q.md", "text": "x"}]},
     "entry 1 (line 4): 'key' is missing"),
    ({"version": 1, "notes": [entry(), entry(guid="g2", key="2", blanks=-1)]},
     "entry 2 (key 2, line 5): 'blanks' must not be negative (-1)"),
    ({"version": 1, "notes": [entry(blanks=True)]}, "'blanks' must be a whole number, not true"),
    ({"version": 1, "notes": [entry(blanks=1.5)]}, "'blanks' must be a whole number, not 1.5"),
    ({"version": 1, "notes": [entry(removed="no")]},
     "'removed' must be true or false, not \"no\""),
    ({"version": 1, "notes": [entry(key=None)]}, "'key' must be a string, not null"),
    ({"version": 1, "notes": [entry(colour="red")]}, "unknown field 'colour'"),
    ({"version": 1, "notes": [entry()], "extra": 1}, "unknown key 'extra' at the top level"),
    ({"version": 1, "note_types": {"basic": "x"}, "notes": [entry()]},
     "'note_types' must map names to whole numbers"),
    ({"version": 1, "note_types": [], "notes": [entry()]}, "'note_types' must map names"),
])
def test_a_malformed_lock_is_an_error_naming_what_is_wrong(tmp_path, lock, expected):
    bank, out = make_bank(tmp_path)
    build(bank, out)
    before = outputs(bank, out)
    if isinstance(lock, dict) and isinstance(lock.get("notes"), list):
        text = '{\n "version": %s,\n "notes": [\n' % json.dumps(lock.get("version")) + \
            ",\n".join("  " + json.dumps(e) for e in lock["notes"]) + "\n ]\n}\n"
        if set(lock) != {"version", "notes"}:
            text = json.dumps(lock)
    else:
        text = json.dumps(lock)
    (bank / "deckgen.lock").write_text(text)
    with pytest.raises(BuildFailed) as info:
        build(bank, out)
    errors = [d for d in info.value.diagnostics if d.code == "lock-unreadable"]
    assert len(errors) == 1 and expected in errors[0].message, errors
    assert errors[0].loc.path.endswith("deckgen.lock")
    assert (bank / "deckgen.lock").read_text() == text  # the lock is left untouched
    assert outputs(bank, out) == {**before, "deckgen.lock": text.encode()}
    result = CliRunner().invoke(main, ["build", str(bank), "-o", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 1 and expected in result.output, result.output
    assert "Traceback" not in result.output


def test_a_lock_that_cannot_be_read_is_an_error_not_a_traceback(tmp_path):
    bank, out = make_bank(tmp_path)
    build(bank, out)
    lock = bank / "deckgen.lock"
    lock.unlink()
    lock.mkdir()  # reading it fails with an OSError
    result = CliRunner().invoke(main, ["build", str(bank), "-o", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 1 and "cannot read the lock file" in result.output
    lock.rmdir()
    lock.write_bytes(b"\xff\xfe not utf-8")
    result = CliRunner().invoke(main, ["check", str(bank)], catch_exceptions=False)
    assert result.exit_code == 1 and "cannot read the lock file" in result.output


def test_duplicate_guids_are_an_error_naming_both_entries(tmp_path):
    bank, out = make_bank(tmp_path)
    build(bank, out)
    before = outputs(bank, out)
    lock = bank / "deckgen.lock"
    text = lock.read_text()
    guids = [n["guid"] for n in json.loads(text)["notes"]]
    merged = text.replace(json.dumps(guids[1]), json.dumps(guids[0]))  # a bad merge
    lock.write_text(merged)
    with pytest.raises(BuildFailed) as info:
        build(bank, out)
    dup = [d for d in info.value.diagnostics if d.code == "duplicate-guid"]
    assert len(dup) == 1
    message = dup[0].message
    assert f"'{guids[0]}'" in message
    assert "key 1 of q.md, line 4 of the lock" in message
    assert "key 2.1 of q.md, line 5 of the lock" in message
    assert dup[0].loc.line == 5
    assert lock.read_text() == merged and outputs(bank, out) == {**before,
                                                                 "deckgen.lock": merged.encode()}
    result = CliRunner().invoke(main, ["check", str(bank)], catch_exceptions=False)
    assert result.exit_code == 1 and "key 2.1 of q.md" in result.output


def test_note_types_in_the_lock_are_accepted_and_kept(tmp_path):
    bank, out = make_bank(tmp_path)
    build(bank, out)
    lock = bank / "deckgen.lock"
    data = json.loads(lock.read_text())
    data["note_types"] = {"basic": 1234567890123, "cloze": 987654321}
    lock.write_text(json.dumps(data))
    to_v2(bank)
    build(bank, out)
    kept = json.loads(lock.read_text())
    assert kept["note_types"] == {"basic": 1234567890123, "cloze": 987654321}
    assert Lock.read(lock).note_types == kept["note_types"]


def test_the_lock_validation_knows_every_entry_field():
    assert set(_ENTRY_TYPES) == {f.name for f in fields(Entry)}


def test_a_lock_changed_on_disk_during_a_build_is_not_overwritten(tmp_path, monkeypatch):
    bank, out = make_bank(tmp_path)
    build(bank, out)
    before = outputs(bank, out)
    to_v2(bank)
    from deckgen.render import jsonlist
    real_call = jsonlist.JsonRenderer.render
    lock = bank / "deckgen.lock"
    theirs = lock.read_text().replace("in one sentence", "in one sentence (theirs)")

    def call(self, *args, **kwargs):
        lock.write_text(theirs)  # another deckgen, or a checkout, meanwhile
        return real_call(self, *args, **kwargs)
    monkeypatch.setattr(jsonlist.JsonRenderer, "render", call)
    with pytest.raises(DeckgenError) as info:
        build(bank, out)
    assert "the lock file changed while deckgen was running" in str(info.value)
    assert lock.read_text() == theirs
    assert outputs(bank, out) == {**before, "deckgen.lock": theirs.encode()}
    assert leftovers(bank, out) == []


def test_accept_with_a_lock_changed_meanwhile_is_a_message(tmp_path, monkeypatch):
    bank, out = make_bank(tmp_path)
    build(bank, out)
    (bank / "q.md").write_text(Q1.replace("in one sentence", "in a sentence"))  # 1 is stale
    lock = bank / "deckgen.lock"
    theirs = lock.read_text().replace("in one sentence", "in one sentence (theirs)")
    from deckgen import identity
    real_accept = identity.accept

    def accept(*args, **kwargs):
        lock.write_text(theirs)
        return real_accept(*args, **kwargs)
    monkeypatch.setattr(identity, "accept", accept)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["accept", "1", "--bank", str(bank)],
                                catch_exceptions=False)
    assert result.exit_code == 1 and "the lock file changed" in result.output, result.output
    assert lock.read_text() == theirs


# -- 3. outputs and lock committed together -------------------------------------------------

KILLED_BUILD = """
import os, sys, time
from pathlib import Path
time.time = lambda: 2_000_000_000.0  # note mtimes: the same new set in every run
kill_at, delay = int(sys.argv[3]), float(sys.argv[4])
real_replace, real_fsync = os.replace, os.fsync
calls = 0
def replace(src, dst, **kw):
    global calls
    if calls == kill_at:
        os._exit(9)
    calls += 1
    time.sleep(delay)  # a slow disk
    return real_replace(src, dst, **kw)
def fsync(fd):
    time.sleep(delay)
    return real_fsync(fd)
os.replace, os.fsync = replace, fsync
from deckgen import config
from deckgen.pipeline import build
cfg = config.override(config.load(Path(sys.argv[1])), out=Path(sys.argv[2]))
print("go", flush=True)
build(cfg)
print(calls, flush=True)
"""


def killed_build(bank: Path, out: Path, kill_at: int = -1, delay: float = 0.0,
                 sigkill_after: float | None = None) -> tuple[str, float]:
    """Build in a child process that dies (os._exit) before its rename number ``kill_at``,
    or is killed (SIGKILL) ``sigkill_after`` seconds after it starts building."""
    proc = subprocess.Popen([sys.executable, "-c", KILLED_BUILD, str(bank), str(out),
                             str(kill_at), str(delay)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "go"
    started = time.perf_counter()
    if sigkill_after is not None:
        time.sleep(sigkill_after)
        proc.send_signal(signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=60)
    if kill_at < 0 and sigkill_after is None:
        assert proc.returncode == 0, stderr
    return stdout.strip(), time.perf_counter() - started


def check_old_or_new(bank: Path, out: Path, old: dict[str, bytes], new: dict[str, bytes],
                     what: str) -> bool:
    """After a killed build: once recovered, the outputs and the lock are the old set or the
    new one; the next build leaves no temporary file and knows which it was. True if new."""
    # what every command does first: reading the lock finishes a commit that included it
    Lock.read(bank / "deckgen.lock")
    now = outputs(bank, out, record=False)
    assert now in (old, new), (what, {k for k in new if now.get(k) != new[k]},
                               {k for k in old if now.get(k) != old[k]})
    is_new = now == new
    # the record was committed with them: a new set is up to date, an old one is not
    assert build(bank, out).skipped is is_new, what
    assert leftovers(bank, out) == [], what
    assert "B, better." in cards(out)[1]["back"]
    assert build(bank, out).skipped
    return is_new


@pytest.fixture
def old_and_new(tmp_path):
    """A bank built at version 1 and edited to version 2; the snapshots of both builds."""
    bank, out = make_bank(tmp_path)
    build(bank, out)
    old = outputs(bank, out)
    to_v2(bank)
    calls = int(killed_build(bank, out)[0])  # the new set, as a child that is not killed makes
    new = outputs(bank, out, record=False)
    assert set(new) == set(old) - {".deckgen-build.json"} and \
        all(new[k] != old[k] for k in new), "every file should change"
    restore(bank, out, old)
    return bank, out, old, new, calls


def test_a_build_killed_before_any_rename_leaves_the_old_set_and_is_cleaned_up(old_and_new):
    bank, out, old, new, calls = old_and_new
    killed_build(bank, out, kill_at=0)  # every new file written; the journal's rename next
    assert leftovers(bank, out) and outputs(bank, out) == old
    assert not check_old_or_new(bank, out, {k: v for k, v in old.items()
                                            if k != ".deckgen-build.json"}, new, "before")


def test_a_build_killed_at_each_rename_leaves_the_old_or_the_new_set(old_and_new):
    bank, out, old, new, calls = old_and_new
    old_files = {k: v for k, v in old.items() if k != ".deckgen-build.json"}
    assert calls == 1 + len(old)  # the journal, then each file
    seen = []
    for k in range(calls + 1):
        restore(bank, out, old)
        killed_build(bank, out, kill_at=k)
        if 1 <= k < calls:  # the journal is written: it says what to finish
            assert [p.name for p in bank.iterdir() if atomic.JOURNAL.fullmatch(p.name)], k
        seen.append(check_old_or_new(bank, out, old_files, new, f"killed before rename {k}"))
    assert seen == [False] + [True] * calls


def test_a_commit_that_leaves_the_lock_alone_is_finished_by_the_next_build(tmp_path):
    bank, out = make_bank(tmp_path)
    build(bank, out)
    old = outputs(bank, out)
    with open(bank / "deckgen.toml", "a") as fh:
        fh.write('description = "A new description."\n')  # the .apkg and the record change
    killed_build(bank, out, kill_at=2)  # the journal and the .apkg renamed, not the record
    assert [p.name for p in out.iterdir() if atomic.JOURNAL.fullmatch(p.name)]
    assert (bank / "deckgen.lock").read_bytes() == old["deckgen.lock"]
    assert (out / "t.apkg").read_bytes() != old["t.apkg"]
    assert build(bank, out).skipped  # finished first: the new set, its record included
    assert leftovers(bank, out) == []


@pytest.mark.slow
def test_builds_killed_at_random_moments_on_a_slow_disk_never_mix_old_and_new(old_and_new):
    bank, out, old, new, calls = old_and_new
    old_files = {k: v for k, v in old.items() if k != ".deckgen-build.json"}
    took = killed_build(bank, out, delay=0.03)[1]
    rng = random.Random(15)
    results = []
    for run in range(20):
        restore(bank, out, old)
        after = rng.uniform(0, took)
        killed_build(bank, out, delay=0.03, sigkill_after=after)
        results.append(check_old_or_new(bank, out, old_files, new,
                                        f"run {run}: SIGKILL after {after:.3f} s"))
    assert True in results and False in results  # the kills hit both sides of the commit


def test_temporary_files_of_dead_builds_are_deleted_and_those_of_live_ones_kept(tmp_path):
    bank, out = make_bank(tmp_path)
    build(bank, out)
    (out / "cache" / "ab").mkdir(parents=True)
    dead = [out / ".t.apkg.deckgen-a1b2c3d4.tmp", bank / ".deckgen.lock.deckgen-zz99yy88.tmp",
            bank / "answers" / ".a.md.deckgen-q1w2e3r4.tmp", out / "cache" / "ab" / ".x.k2j3h4g5.tmp"]
    for p in dead:
        p.write_bytes(b"left by a killed build")
    live = out / ".t.json.deckgen-l1v2e3x4.tmp"
    live.write_bytes(b"being written")
    mine = bank / ".notes.abcdefgh.tmp"  # not deckgen's: never touched outside the cache
    mine.write_bytes(b"the user's")
    import fcntl
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as its writer holds it
        assert build(bank, out).skipped  # even a build with nothing to do cleans up
        assert [p for p in dead if p.exists()] == []
        assert live.exists() and mine.exists()
    finally:
        os.close(fd)
    build(bank, out)
    assert not live.exists()


def test_a_journal_that_came_with_a_bank_moves_nothing(tmp_path):
    bank, out = make_bank(tmp_path)
    build(bank, out)
    victim = tmp_path / "victim.txt"
    victim.write_text("mine")
    payload = bank / ".victim.txt.deckgen-abcdefgh.tmp"
    payload.write_text("overwritten")
    journal = bank / ".deckgen-commit-0123456789abcdef.json"
    journal.write_text(json.dumps({"format": "deckgen-commit", "version": 1, "renames": [
        {"tmp": str(payload), "target": str(victim), "old": None},
        {"tmp": str(bank / "q.md"), "target": str(bank / "deckgen.lock"), "old": None}]}))
    assert build(bank, out).skipped
    assert victim.read_text() == "mine" and (bank / "q.md").read_text() == Q1
    assert journal.exists()  # not this user's (no MAC): a file of the bank, left alone
    # well formed, its temporary file beside its target, and still not this user's: nothing
    (bank / ".deckgen.lock.deckgen-abcdefgh.tmp").write_text("forged lock")
    lock = (bank / "deckgen.lock").read_text()
    forged = bank / ".deckgen-commit-fedcba9876543210.json"
    forged.write_text(json.dumps({"format": "deckgen-commit", "version": 1, "renames": [
        {"tmp": str(bank / ".deckgen.lock.deckgen-abcdefgh.tmp"),
         "target": str(bank / "deckgen.lock"), "old": None}]}))
    build(bank, out)
    assert (bank / "deckgen.lock").read_text() == lock and forged.exists()


def test_a_file_saved_after_the_crash_is_not_overwritten_by_the_journal(old_and_new):
    bank, out, old, new, calls = old_and_new
    killed_build(bank, out, kill_at=1)  # the journal is written, nothing renamed yet
    lock = bank / "deckgen.lock"
    theirs = old["deckgen.lock"].replace(b"in one sentence", b"in one sentence (theirs)")
    lock.write_bytes(theirs)  # e.g. a checkout before deckgen ran again
    atomic.recover(bank, out)
    assert lock.read_bytes() == theirs
    assert (out / "t.json").read_bytes() == new["t.json"]
    assert leftovers(bank, out) == []


# -- 4. disk faults: a message naming the path, exit 1, the previous outputs kept -------------

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def refuse_writes(monkeypatch, folder: Path, err: int = errno.EROFS) -> None:
    """Make ``folder`` behave as read-only (or full, with ENOSPC) for this process: creating,
    writing, renaming or deleting anything in it fails (works as root too, unlike chmod)."""
    folder = Path(os.path.abspath(folder))

    def inside(path) -> bool:
        try:
            p = Path(os.path.abspath(os.fsdecode(path)))
        except TypeError:
            return False  # a file descriptor
        return p == folder or folder in p.parents

    def fail(path):
        raise OSError(err, os.strerror(err), os.fsdecode(path))

    real_open, real_mkdir = os.open, os.mkdir
    real_replace, real_rename, real_unlink = os.replace, os.rename, os.unlink
    real_io_open = io.open

    def os_open(path, flags, *args, **kwargs):
        if flags & _WRITE_FLAGS and inside(path):
            fail(path)
        return real_open(path, flags, *args, **kwargs)

    def io_open(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+") and not isinstance(file, int) and inside(file):
            fail(file)
        return real_io_open(file, mode, *args, **kwargs)

    def guard(real):
        def guarded(*paths, **kwargs):
            for p in paths:
                if inside(p):
                    fail(p)
            return real(*paths, **kwargs)
        return guarded

    def mkdir(path, *args, **kwargs):
        if inside(path):
            if os.path.lexists(path):  # as the kernel says first
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), path)
            fail(path)
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(io, "open", io_open)
    monkeypatch.setattr(builtins, "open", io_open)
    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(os, "replace", guard(real_replace))
    monkeypatch.setattr(os, "rename", guard(real_rename))
    monkeypatch.setattr(os, "unlink", guard(real_unlink))
    monkeypatch.setattr(os, "remove", guard(real_unlink))


def cli_build(bank: Path, out: Path):
    result = CliRunner().invoke(main, ["build", str(bank), "-o", str(out)],
                                catch_exceptions=False)  # a traceback fails the test
    assert "Traceback" not in result.output
    return result


@pytest.mark.parametrize("where", ["out", "bank"])
def test_a_read_only_folder_is_a_message_naming_the_path(tmp_path, monkeypatch, where):
    bank, out = make_bank(tmp_path)
    build(bank, out)
    to_v2(bank)  # every output and the lock must change
    before = outputs(bank, out)
    folder = out if where == "out" else bank
    refuse_writes(monkeypatch, folder)
    result = cli_build(bank, out)
    monkeypatch.undo()
    assert result.exit_code == 1, result.output
    named = out / "t.apkg" if where == "out" else bank / "deckgen.lock"
    assert f"cannot write {named}" in result.output and "read-only" in result.output
    assert outputs(bank, out) == before
    assert leftovers(bank, out) == []
    assert not build(bank, out).skipped  # and once writable, the build simply works


def test_an_output_folder_that_cannot_be_created_is_a_message(tmp_path, monkeypatch):
    bank, _ = make_bank(tmp_path)
    parent = tmp_path / "readonly"
    parent.mkdir()
    refuse_writes(monkeypatch, parent, errno.EACCES)
    result = cli_build(bank, parent / "out")
    assert result.exit_code == 1 and str(parent / "out") in result.output, result.output
    assert "Permission denied" in result.output


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes into read-only folders")
@pytest.mark.parametrize("where", ["out", "bank"])
def test_a_really_read_only_folder_is_a_message_naming_the_path(tmp_path, where):
    bank, out = make_bank(tmp_path)
    build(bank, out)
    to_v2(bank)
    before = outputs(bank, out)
    folder = out if where == "out" else bank
    folder.chmod(0o555)
    try:
        result = cli_build(bank, out)
    finally:
        folder.chmod(0o755)
    assert result.exit_code == 1 and "cannot write" in result.output, result.output
    assert str(folder) in result.output
    assert outputs(bank, out) == before and leftovers(bank, out) == []


@pytest.mark.parametrize("fault", ["write", "fsync", "journal"])
def test_a_full_disk_is_a_message_naming_the_path(tmp_path, monkeypatch, fault):
    bank, out = make_bank(tmp_path)
    build(bank, out)
    to_v2(bank)
    before = outputs(bank, out)

    def full(*_args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if fault == "write":  # the JSON list (after the .apkg was written)
        real = Path.write_bytes

        def write_bytes(self, data):
            if self.name.startswith(".t.json."):
                full()
            return real(self, data)
        monkeypatch.setattr(Path, "write_bytes", write_bytes)
        named = out / "t.json"
    elif fault == "fsync":  # a full disk often shows only when the data is flushed
        monkeypatch.setattr(os, "fsync", full)
        named = out / "t.apkg"
    else:  # the commit's journal, once every output is written
        real_open = builtins.open

        def open_(file, mode="r", *args, **kwargs):
            if "w" in mode and atomic.JOURNAL_PREFIX in str(file):
                full()
            return real_open(file, mode, *args, **kwargs)
        monkeypatch.setattr(builtins, "open", open_)
        named = bank / atomic.JOURNAL_PREFIX
    result = cli_build(bank, out)
    monkeypatch.undo()
    assert result.exit_code == 1, result.output
    assert f"cannot write {named}" in result.output, result.output
    assert "No space left on device (the disk is full)" in result.output
    assert outputs(bank, out) == before
    assert leftovers(bank, out) == []


def test_a_disk_fault_anywhere_in_a_build_is_a_message(tmp_path, monkeypatch):
    """A fault outside the commit (here: writing a figure for the cards) is no traceback."""
    bank, out = make_bank(tmp_path)
    build(bank, out)
    to_v2(bank)
    before = outputs(bank, out)
    from deckgen import cards as cards_module

    def broken(*_args, **_kwargs):
        raise OSError(errno.EIO, os.strerror(errno.EIO), str(out / "cache" / "x"))
    monkeypatch.setattr(cards_module, "build_deck", broken)
    result = cli_build(bank, out)
    assert result.exit_code == 1 and str(out / "cache" / "x") in result.output
    assert "previous outputs were kept" in result.output
    assert outputs(bank, out) == before
