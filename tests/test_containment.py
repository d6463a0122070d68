"""Cells are contained: they cannot start processes (so the memory cap is the whole tree's),
their time limit cannot be switched off, nothing they start outlives the build or deckgen,
and everything they show is capped, with a note on the card."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import build, cards_json, write_bank
from deckgen import config
from deckgen.errors import BuildFailed, ConfigError
from deckgen.execute import runner, worker
from deckgen.pipeline import gather

TESTS = Path(__file__).resolve().parent
LINUX = sys.platform.startswith("linux")
SECCOMP = LINUX and os.uname().machine in ("x86_64", "aarch64")
needs_proc = pytest.mark.skipif(not LINUX, reason="reads /proc")

QUESTIONS = "1. Q?\n\n---\n\n2. R?\n"


def _bank(tmp_path: Path, cell: str, options: str = "") -> Path:
    """Q1 answered in prose, Q2 by ``cell`` (its code starts at line 6 of answers/a.md)."""
    bank = write_bank(tmp_path / "b", QUESTIONS, "## 1\nFine.\n\n## 2\n```{python}\n"
                      f"{options}{cell}\n```\n")
    with (bank / "deckgen.toml").open("a") as f:
        f.write('formats = ["json", "apkg"]\n')
    return bank


def _outputs(out: Path, bank: Path) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    files["lock"] = (bank / "deckgen.lock").read_bytes()
    return files


def _running(pid: int) -> bool:
    """Whether a process runs (a zombie waiting for its parent to reap it does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _gone(pids: list[int], within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while any(_running(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _processes_with(argument: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                args = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argument.encode() in args and _running(int(entry.name)):
                found.append(int(entry.name))
    return found


@pytest.fixture
def allow_processes(monkeypatch):
    """Cells may start processes (the mode where only the process group contains them)."""
    monkeypatch.setattr(runner, "ALLOW_PROCESSES", True)


# -- processes and memory -------------------------------------------------------------------------

FORKS = """import os
for _ in range(4):
    if os.fork() == 0:
        block = bytearray(512 * 1024**2)
        os._exit(0)"""
POOL = """from multiprocessing import Pool
with Pool(4) as pool:
    pool.map(bytearray, [512 * 1024**2] * 4)"""
SUBPROCESS = """import subprocess, sys
subprocess.run([sys.executable, "-c", "block = bytearray(512 * 1024**2)"])"""


@pytest.mark.slow
@pytest.mark.parametrize("cell,line", [(FORKS, 8), (POOL, 7), (SUBPROCESS, 7)],
                         ids=["fork", "multiprocessing", "subprocess"])
def test_cells_that_start_processes_fail_located_and_outputs_are_kept(tmp_path, cell, line):
    bank = write_bank(tmp_path / "b", QUESTIONS, "## 1\nFine.\n\n## 2\nAlso.\n")
    out = tmp_path / "out"
    build(bank, out)
    before = _outputs(out, bank)
    _bank(tmp_path, cell)
    with pytest.raises(BuildFailed) as info:
        build(bank, out)
    diag = next(d for d in info.value.diagnostics if d.code == "cell-error")
    assert diag.loc.path.endswith("answers/a.md") and diag.loc.line == line, diag
    assert "may not start processes" in diag.message
    assert _outputs(out, bank) == before


@pytest.mark.slow
@pytest.mark.skipif(not SECCOMP, reason="the seccomp filter is for Linux x86_64 and aarch64")
def test_the_kernel_refuses_a_fork_that_bypasses_python(tmp_path):
    """ctypes reaches libc's fork() past any Python-level guard: the seccomp filter stops it,
    so the worker stays one process and its address-space cap is the cap of the whole tree."""
    cell = """import ctypes, os, threading
libc = ctypes.CDLL(None, use_errno=True)
pid = libc.fork()
if pid == 0:
    os._exit(0)
spawned = threading.Thread(target=lambda: None)
spawned.start()
spawned.join()
print("fork:", pid, "errno:", ctypes.get_errno(), "threads work")"""
    bank = _bank(tmp_path, cell)
    build(bank, tmp_path / "out")
    back = cards_json(tmp_path / "out")["cards"][1]["back"]
    assert "fork: -1 errno: 1 threads work" in back


# -- time limits ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "0", "abc", "", "1e9"])
def test_a_timeout_that_is_no_limit_is_a_located_error(tmp_path, value):
    bank = _bank(tmp_path, "x = 1", f"#| timeout: {value}\n")
    problems = [d for b in gather(config.load(bank)).banks for d in runner.check_cells(b)]
    assert [(d.code, d.loc.line) for d in problems] == [("bad-timeout", 5)]
    assert f"'{value}'" in problems[0].message
    started = time.monotonic()
    with pytest.raises(BuildFailed) as info:
        build(bank, tmp_path / "out")
    assert time.monotonic() - started < 5  # found before any cell runs: no worker started
    assert [(d.code, d.loc.line) for d in info.value.diagnostics if d.code == "bad-timeout"] \
        == [("bad-timeout", 5)]


@pytest.mark.parametrize("value", ["1", "2.5", " 30 ", "86400"])
def test_a_real_timeout_is_fine(tmp_path, value):
    bank = _bank(tmp_path, "x = 1", f"#| timeout: {value}\n")
    assert [d for b in gather(config.load(bank)).banks for d in runner.check_cells(b)] == []


@pytest.mark.slow
def test_a_bad_timeout_is_an_error_even_when_the_result_is_cached(tmp_path):
    bank = _bank(tmp_path, "6 * 7", "#| timeout: 5\n")
    build(bank, tmp_path / "out")
    _bank(tmp_path, "6 * 7", "#| timeout: nan\n")  # timeout is not part of the cache key
    with pytest.raises(BuildFailed) as info:
        build(bank, tmp_path / "out")
    assert any(d.code == "bad-timeout" for d in info.value.diagnostics)


@pytest.mark.parametrize("setting", ["timeout = nan", "timeout = inf", "timeout = -1",
                                     "timeout = 0", "memory_mb = 0", "memory_mb = -5",
                                     "jobs = 0", "jobs = -2"])
def test_bad_limits_in_deckgen_toml_stop_the_build(tmp_path, setting):
    bank = _bank(tmp_path, "x = 1")
    with (bank / "deckgen.toml").open("a") as f:
        f.write(setting + "\n")
    with pytest.raises((ConfigError, BuildFailed)) as info:
        build(bank, tmp_path / "out")
    if isinstance(info.value, BuildFailed):
        assert any(d.code == "config" for d in info.value.diagnostics)


def test_settings_are_checked_before_any_worker_starts(tmp_path):
    cfg = config.load(_bank(tmp_path, "x = 1"))
    assert runner.settings_problems(cfg) == []
    for bad in ({"timeout": math.nan}, {"timeout": math.inf}, {"timeout": 1e9},
                {"memory_mb": 10}, {"memory_mb": True}, {"jobs": 0}, {"jobs": 10_000}):
        assert [d.code for d in runner.settings_problems(replace(cfg, **bad))] == ["config"], bad


# -- nothing outlives the build ------------------------------------------------------------------

@pytest.mark.slow
@needs_proc
def test_a_refused_subprocess_leaves_nothing_running(tmp_path):
    mark = f"1000.{uuid.uuid4().int % 10**8}"
    bank = _bank(tmp_path, f"import subprocess\nsubprocess.Popen(['sleep', '{mark}'])")
    with pytest.raises(BuildFailed):
        build(bank, tmp_path / "out")
    assert _processes_with(mark) == []


def _child_cell(pids: Path, then: str = "") -> str:
    return (f"import os, subprocess\nchild = subprocess.Popen(['sleep', '1000'])\n"
            f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}\\n')\n{then}")


@pytest.mark.slow
@needs_proc
def test_where_cells_may_start_processes_none_outlives_the_build(tmp_path, allow_processes):
    pids = tmp_path / "pids"
    bank = _bank(tmp_path, _child_cell(pids, "print('started')"))
    build(bank, tmp_path / "out")
    assert "started" in cards_json(tmp_path / "out")["cards"][1]["back"]
    worker_pid, child_pid = map(int, pids.read_text().split())
    assert _gone([worker_pid, child_pid])


@pytest.mark.slow
@needs_proc
def test_a_timed_out_cell_takes_its_processes_with_it(tmp_path, allow_processes):
    pids = tmp_path / "pids"
    bank = _bank(tmp_path, _child_cell(pids, "import time\ntime.sleep(60)"), "#| timeout: 1\n")
    with pytest.raises(BuildFailed) as info:
        build(bank, tmp_path / "out")
    assert [d.code for d in info.value.diagnostics] == ["cell-timeout"]
    assert _gone(list(map(int, pids.read_text().split())))


DECKGEN = """import sys
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from conftest import build
from deckgen.execute import runner
runner.ALLOW_PROCESSES = sys.argv[3] == "allow"
build(Path(sys.argv[1]), Path(sys.argv[2]))
"""
PYTHON_LOOP = "while True:\n    pass"
C_LOOP = "import re\nre.match(r'(a+)+$', 'a' * 64 + 'b')"  # holds the GIL: no thread runs


@pytest.mark.slow
@needs_proc
@pytest.mark.parametrize("mode", ["refuse", "allow"])
@pytest.mark.parametrize("loop", [PYTHON_LOOP, C_LOOP], ids=["python-loop", "gil-held"])
def test_killing_deckgen_kills_its_worker_and_what_it_started(tmp_path, mode, loop):
    pids = tmp_path / "pids"
    if mode == "allow":
        cell = _child_cell(pids, loop)
    else:
        cell = f"import os\nopen({str(pids)!r}, 'w').write(f'{{os.getpid()}}\\n')\n{loop}"
    bank = _bank(tmp_path, cell, "#| timeout: 600\n")
    deckgen = subprocess.Popen([sys.executable, "-c", DECKGEN, str(bank), str(tmp_path / "out"),
                                mode, str(TESTS)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not pids.exists() or not pids.read_text().endswith("\n"):
            assert time.monotonic() < deadline and deckgen.poll() is None, "the cell never ran"
            time.sleep(0.05)
        started = list(map(int, pids.read_text().split()))
        assert all(_running(p) for p in started)
        time.sleep(0.2)  # well inside the loop
    finally:
        deckgen.send_signal(signal.SIGKILL)
        deckgen.wait()
    assert _gone(started), [p for p in started if _running(p)]


# -- outputs are capped --------------------------------------------------------------------------

@pytest.mark.slow
def test_a_huge_last_value_is_capped_with_a_note(tmp_path):
    bank = _bank(tmp_path, "'x' * 100_000_000")
    with (bank / "answers" / "a.md").open("a") as f:
        f.write("\nInline: `{python} 'y' * 50_000_000`.\n")
    out = tmp_path / "out"
    build(bank, out)
    back = cards_json(out)["cards"][1]["back"]
    assert "more characters of this value not shown" in back
    assert "more characters not shown]" in back.split("Inline:")[1]
    assert len(back) < 300_000
    assert all(p.stat().st_size < 1_000_000 for p in out.iterdir() if p.is_file())
    assert all(p.stat().st_size < 1_000_000 for p in (out / "cache").rglob("*") if p.is_file())


def test_values_are_capped_and_say_so():
    text = worker.display_data("x" * (worker.VALUE_LIMIT * 3))
    assert text is not None and len(text["text/plain"]) < worker.VALUE_LIMIT + 100
    assert text["text/plain"].endswith(
        f"[{worker.VALUE_LIMIT * 2 + 2} more characters of this value not shown]")
    inline = worker.inline_value("y" * (worker.INLINE_LIMIT + 5))
    assert inline == "y" * worker.INLINE_LIMIT + " ... [5 more characters not shown]"
    assert worker.display_data(41) == {"text/plain": "41"}


def test_a_question_cannot_show_more_than_its_total(monkeypatch):
    monkeypatch.setattr(worker, "QUESTION_LIMIT", 1_000)
    budget = worker._Budget()
    big = {"type": "stream", "data": {"text/plain": "z" * 600}}
    first = budget.apply({"outputs": [big]})
    second = budget.apply({"outputs": [big, {"type": "result", "data": {"text/plain": "1"}}]})
    third = budget.apply({"value": "v" * 600})
    assert first["outputs"] == [big]
    assert "the most one question may show" in second["outputs"][0]["data"]["text/plain"]
    assert second["outputs"][1]["data"]["text/plain"] == "1"  # what still fits is kept
    assert "the most one question may show" in third["value"]


def test_the_question_total_applies_to_a_job(monkeypatch):
    """run_job (in this process: the cells only print) spends one budget across its cells."""
    monkeypatch.setattr(worker, "QUESTION_LIMIT", 1_000)
    unit = {"code": "print('z' * 600)", "path": "a.md", "first_line": 6, "inline": False,
            "options": {}, "pre": []}
    inline = {**unit, "code": "'v' * 600", "inline": True}
    sent: list[dict] = []
    worker.run_job({"id": "Q1/1", "setup": [], "units": [unit, unit, inline]}, sent.append)
    results = [m for m in sent if "unit" in m]
    assert [m["ok"] for m in results] == [True, True, True] and sent[-1]["done"]
    assert results[0]["outputs"][0]["data"]["text/plain"] == "z" * 600 + "\n"
    assert "the most one question may show" in results[1]["outputs"][0]["data"]["text/plain"]
    assert "the most one question may show" in results[2]["value"]
    assert "1,000 characters" in results[2]["value"]


def test_a_figure_over_the_image_limit_is_a_note(monkeypatch):
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setattr(worker, "IMAGE_LIMIT", 2_000)
    fig, ax = plt.subplots()
    ax.plot(range(100))
    shown = worker._figures()
    assert len(shown) == 1 and "figure not shown" in shown[0]["data"]["text/plain"]
    assert "image/svg+xml" not in shown[0]["data"]
    plt.close("all")


def test_error_messages_are_capped():
    report = worker._error(ValueError("e" * 1_000_000))
    assert len(report["evalue"]) < worker.ERROR_LIMIT + 100
    assert len(report["traceback"]) < 3 * worker.ERROR_LIMIT


@pytest.mark.slow
def test_a_worker_that_floods_deckgens_channel_is_stopped(tmp_path):
    """A cell writing endlessly to the worker's channel to deckgen: deckgen reads at most
    MESSAGE_LIMIT characters of one message, then stops the worker (well before the cell's
    time limit, and without holding the flood in memory)."""
    cell = ("import gc, io\n"
            "channel = next(o for o in gc.get_objects() if isinstance(o, io.TextIOWrapper)\n"
            "               and o.writable() and not o.closed and o.fileno() > 2)\n"
            "while True:\n    channel.write('[' * 1_000_000)")
    bank = _bank(tmp_path, cell, "#| timeout: 20\n")
    started = time.monotonic()
    with pytest.raises(BuildFailed) as info:
        build(bank, tmp_path / "out")
    assert [d.code for d in info.value.diagnostics] == ["worker-protocol"]
    assert "longer than" in info.value.diagnostics[0].message
    assert time.monotonic() - started < 15


def test_the_seccomp_program_is_well_formed():
    for arch, numbers in worker._SYSCALLS.values():
        code = worker.seccomp_program(arch, numbers)
        assert len(code) % 8 == 0 and 0 < len(code) // 8 < 64
