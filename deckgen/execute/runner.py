"""Cells -> results: cache lookups first, then worker processes for what is missing.

Each question is one job: the bank's setup cells, then the question's cells and inline
expressions in part order, in a namespace of its own. Jobs whose cache key is known are
never sent to a worker, so a rebuild with nothing changed starts no process at all.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deckgen.config import Config
from deckgen.errors import Diagnostic, Location, Severity
from deckgen.execute import worker as worker_module
from deckgen.execute.cache import Cache, cache_key, runtime
from deckgen.execute.worker import QUESTION_LIMIT
from deckgen.model import Bank, Cell, Question

Progress = Callable[[int, int, str], None]
DEFAULT_TIMEOUT = 60.0
START_TIMEOUT = 60.0
MAX_TIMEOUT = 86_400.0
"""The longest ``#| timeout:`` (and ``timeout`` in deckgen.toml) allowed, in seconds."""
MEMORY_MB = (256, 1 << 20)
"""The smallest and largest ``memory_mb`` a worker may be given."""
MAX_JOBS = 64
MESSAGE_LIMIT = QUESTION_LIMIT + 1_000_000
"""The longest line a worker may send (the worker caps what it sends well below this)."""
ALLOW_PROCESSES = False
"""Let cells start processes (tests of the process-group cleanup set this; see the
"Containment" section of docs/ANSWERS.md). Never set from a bank."""
_TOO_LONG = "\x00"  # put in the queue by the reader instead of a line over MESSAGE_LIMIT
_RUN_FILE = ("import runpy, sys\npath = sys.argv.pop(1)\n"
             "runpy.run_path(path, run_name='__main__')")
"""How another Python runs the worker: by its file, needing nothing of deckgen installed."""


@dataclass
class Job:
    bank: Bank
    question: Question
    cells: list[Cell]
    units: list[dict[str, Any]]
    setup: list[dict[str, Any]]
    key: str

    @property
    def label(self) -> str:
        return f"Q{self.question.number}"


def _unit(cell: Cell, pre: list[dict[str, Any]]) -> dict[str, Any]:
    return {"code": cell.code, "path": cell.loc.path, "first_line": cell.first_line,
            "inline": cell.inline, "options": cell.options, "pre": pre}


def timeout_problem(value: str) -> str | None:
    """Why a ``#| timeout:`` value is not a usable number of seconds, or None if it is."""
    try:
        seconds = float(value)
    except ValueError:
        return f"'{value}' is not a number of seconds (e.g. '#| timeout: 120')"
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_TIMEOUT:
        return (f"'{value}' is not a number of seconds greater than 0 and at most "
                f"{MAX_TIMEOUT:g} (a cell always has a time limit)")
    return None


def _timeout_diagnostics(cell: Cell) -> list[Diagnostic]:
    why = timeout_problem(cell.options["timeout"]) if "timeout" in cell.options else None
    return [Diagnostic(cell.loc, f"timeout: {why}", "bad-timeout")] if why else []


def _cells(q: Question) -> list[Cell]:
    return [c for p in q.parts if p.answer for c in p.answer.cells]


def _question_code(q: Question, cell: Cell, diags: list[Diagnostic] | None
                   ) -> list[dict[str, Any]]:
    """The question code blocks a cell's ``question-code`` option names (bad names reported)."""
    pre = []
    for ref in cell.options.get("question-code", "").replace(",", " ").split():
        if not ref.isdigit() or not 1 <= int(ref) <= len(q.code):
            if diags is not None:
                diags.append(Diagnostic(cell.loc, f"question-code: {ref} does not name one "
                                        f"of question {q.number}'s {len(q.code)} code "
                                        "block(s)", "bad-question-code"))
            continue
        block = q.code[int(ref) - 1]
        pre.append({"code": block.code, "path": block.loc.path,
                    "first_line": block.loc.line + 1})
    return pre


def check_cells(bank: Bank) -> list[Diagnostic]:
    """What is wrong with the bank's cell options, found without running anything: a
    ``timeout`` that is not a finite number of seconds in (0, MAX_TIMEOUT], a
    ``question-code`` that names no code block. Each is an error at the cell's fence line.

    ``run_cells`` checks this too and runs nothing when it finds a problem; ``gather`` calls
    it so that ``deckgen check`` reports the same.
    """
    diags: list[Diagnostic] = []
    for cell in bank.setup:
        diags.extend(_timeout_diagnostics(cell))
    for q in bank.questions:
        for cell in _cells(q):
            diags.extend(_timeout_diagnostics(cell))
            _question_code(q, cell, diags)
    return diags


def make_jobs(bank: Bank, runs_with: dict[str, Any] | None = None) -> list[Job]:
    jobs = []
    setup = [_unit(c, []) for c in bank.setup]
    for q in bank.questions:
        cells = _cells(q)
        if not cells:
            continue
        units = [_unit(cell, _question_code(q, cell, None)) for cell in cells]
        jobs.append(Job(bank, q, cells, units, setup, cache_key(setup, units, runs_with)))
    return jobs


def settings_problems(cfg: Config) -> list[Diagnostic]:
    """deckgen.toml's ``timeout``, ``memory_mb`` and ``jobs``, checked again before any worker
    starts (config.load should already refuse these)."""
    where = Location(str(cfg.config_file), 1) if cfg.config_file else None
    problems = []
    timeout = cfg.timeout
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or \
            not math.isfinite(timeout) or not 0 < timeout <= MAX_TIMEOUT:
        problems.append(f"'timeout' must be a number of seconds greater than 0 and at most "
                        f"{MAX_TIMEOUT:g}, not {timeout!r}")
    memory = cfg.memory_mb
    if isinstance(memory, bool) or not isinstance(memory, int) or \
            not MEMORY_MB[0] <= memory <= MEMORY_MB[1]:
        problems.append(f"'memory_mb' must be a whole number of MiB from {MEMORY_MB[0]} to "
                        f"{MEMORY_MB[1]}, not {memory!r}")
    jobs = cfg.jobs
    if isinstance(jobs, bool) or not isinstance(jobs, int) or not 1 <= jobs <= MAX_JOBS:
        problems.append(f"'jobs' must be a whole number from 1 to {MAX_JOBS}, not {jobs!r}")
    return [Diagnostic(where, p, "config") for p in problems]


class Worker:
    """One worker process with a reader thread; killed and replaced after a timeout.

    The worker runs in a session (and process group) of its own, and is killed with its
    whole group: after a timeout, when it breaks the protocol, and when the build ends.
    """

    def __init__(self, memory_mb: int, default_timeout: float = DEFAULT_TIMEOUT,
                 preload: tuple[str, ...] = (), python: str | None = None):
        self.python = python
        self.memory_mb = memory_mb
        self.default_timeout = default_timeout
        self.preload = preload
        self.ready = False
        self.proc: subprocess.Popen[str] | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stderr: list[str] = []
        self.containment: dict[str, Any] = {}
        self.sent = 0
        self.death: int | None = None  # deckgen's end of the worker's janitor pipe
        self._lock = threading.Lock()

    def start(self) -> None:
        self.spawn()
        self.wait_ready()

    def spawn(self) -> None:
        """Start the process; :meth:`wait_ready` waits for it to say it is ready."""
        self.ready = False
        env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1")
        if self.python is None:
            command = [sys.executable, "-m", "deckgen.execute.worker"]
        else:  # another environment (``python`` in deckgen.toml): the worker is plain stdlib
            command = [self.python, "-c", _RUN_FILE, worker_module.__file__ or ""]
        command += ["--memory-mb", str(self.memory_mb), "--parent", str(os.getpid())]
        if ALLOW_PROCESSES:
            command.append("--allow-processes")
        if self.preload:
            command += ["--preload", ",".join(self.preload)]
        keep: tuple[int, ...] = ()
        if os.name == "posix":
            # the worker's janitor (where cells may start processes) waits for this pipe to
            # close, which it does when kill() runs or this process dies
            read_end, self.death = os.pipe()
            command += ["--death-fd", str(read_end)]
            keep = (read_end,)
        # The worker limits itself (deckgen/execute/worker.py, contain()); its own session
        # makes its process group the unit that kill() ends.
        try:
            self.proc = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True, encoding="utf-8", env=env, start_new_session=os.name == "posix",
                pass_fds=keep)
        finally:
            for fd in keep:
                os.close(fd)
        self.lines = queue.Queue()
        self.stderr = []
        threading.Thread(target=self._read, args=(self.proc, self.lines), daemon=True).start()
        threading.Thread(target=self._drain, args=(self.proc, self.stderr), daemon=True).start()

    def wait_ready(self) -> None:
        if self.ready:
            return
        try:
            first = self._get(START_TIMEOUT)
        except (queue.Empty, ValueError):
            first = None
        if first is None or not first.get("ready"):
            self.kill()
            raise RuntimeError(f"the cell worker did not start: {''.join(self.stderr)[-2000:]}")
        self.containment = first.get("containment") or {}
        self.ready = True

    @staticmethod
    def _read(proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
        assert proc.stdout is not None
        while True:
            line = proc.stdout.readline(MESSAGE_LIMIT + 1)
            if not line:
                break
            if len(line) > MESSAGE_LIMIT:
                lines.put(_TOO_LONG)  # the runner kills the worker; stop reading
                return
            lines.put(line)
        lines.put(None)

    @staticmethod
    def _drain(proc: subprocess.Popen[str], sink: list[str]) -> None:
        assert proc.stderr is not None
        kept = 0
        while True:
            chunk = proc.stderr.readline(8192)  # bounded: a line may be endless
            if not chunk:
                return
            if kept < 100_000:
                sink.append(chunk)
                kept += len(chunk)

    def _get(self, timeout: float) -> dict[str, Any] | None:
        line = self.lines.get(timeout=timeout)
        if line == _TOO_LONG:
            raise ValueError(f"a message longer than {MESSAGE_LIMIT:,} characters")
        if line is None:
            return None
        try:
            message = json.loads(line)
        except RecursionError:
            raise ValueError("a message nested too deeply") from None
        if not isinstance(message, dict):
            raise ValueError("a message that is not a JSON object")
        return message

    def kill(self) -> int | None:
        """Kill the worker and every process in its group; its exit code (None if none ran)."""
        with self._lock:  # the build's thread and the worker's thread may both end it
            proc, self.proc = self.proc, None
            death, self.death = self.death, None
            self.ready = False
        code = _end(proc) if proc is not None else None
        if death is not None:
            os.close(death)
        return code

    def alive(self) -> bool:
        """Whether the worker runs (without reaping it: its process group must stay
        addressable until kill() has ended it)."""
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return False
        if hasattr(os, "waitid"):
            try:
                return os.waitid(os.P_PID, proc.pid,
                                 os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
            except ChildProcessError:
                return False
        return proc.poll() is None

    def run(self, job: Job) -> tuple[list[dict[str, Any]] | None, Diagnostic | None]:
        """Run a job; returns (results, None) or (None, a diagnostic about the failure)."""
        if not self.alive():
            self.kill()
            self.start()
        self.wait_ready()
        assert self.proc is not None and self.proc.stdin is not None
        self.sent += 1
        job_id = f"{job.label}/{self.sent}"
        payload = {"id": job_id, "setup": job.setup, "units": job.units}
        # written by a thread: a worker that stops reading cannot block deckgen (the wait for
        # its answer below has a time limit, and kill() ends the write)
        threading.Thread(target=_write, args=(self.proc, json.dumps(payload) + "\n"),
                         daemon=True).start()
        results: list[dict[str, Any]] = []
        index = 0
        prepared = False
        while True:
            cell = job.cells[min(index, len(job.cells) - 1)] if job.cells else None
            timeout = _timeout(cell, self.default_timeout) if prepared else START_TIMEOUT
            where = cell.loc if cell and prepared else job.question.loc
            try:
                message = self._get(timeout)
            except queue.Empty:
                self.kill()
                what = "cell" if prepared else "imports and setup code"
                return None, Diagnostic(where, f"{what} timed out after {timeout:g} s (set "
                                        "'#| timeout: N' to allow longer)", "cell-timeout")
            except ValueError as exc:
                return None, self._broken(where, str(exc))
            if message is None:
                code = self.kill()
                where = cell.loc if cell else job.question.loc
                hint = " (memory cap reached?)" if code and code < 0 else ""
                return None, Diagnostic(where, f"the cell worker died with exit code {code}"
                                        f"{hint}: {''.join(self.stderr)[-500:].strip()}",
                                        "worker-died")
            if message.get("job") != job_id:
                return None, self._broken(where, "a message for another job")
            if message.get("prepared"):
                prepared = True
                continue
            if message.get("done"):
                return results, None
            if not message.get("ok"):
                err = message.get("error")
                unit = message.get("unit", -1)
                if not isinstance(err, dict) or not isinstance(unit, int) or \
                        unit >= len(job.cells):
                    return None, self._broken(where, "an unreadable error report")
                source = job.setup if unit < 0 else job.units
                failing = job.cells[unit] if unit >= 0 else None
                loc = failing.loc if failing else (Location(source[0]["path"],
                                                            source[0]["first_line"] - 1)
                                                   if source else job.question.loc)
                if isinstance(err.get("file"), str) and isinstance(err.get("line"), int):
                    loc = Location(err["file"], err["line"])
                hint = ""
                if err.get("ename") == "ModuleNotFoundError":
                    hint = (f" (cells run with {self.python or sys.executable}: install the "
                            "package there, or name another Python as 'python' in "
                            "deckgen.toml)")
                return None, Diagnostic(loc, f"cell failed: {err.get('ename')}: "
                                        f"{err.get('evalue')}{hint}\n"
                                        f"{str(err.get('traceback', '')).rstrip()}",
                                        "cell-error")
            if message.get("unit") != index or index >= len(job.cells):
                return None, self._broken(where, "a result out of order")
            results.append({k: v for k, v in message.items() if k in ("outputs", "value")})
            index += 1

    def _broken(self, where: Location, what: str) -> Diagnostic:
        self.kill()
        return Diagnostic(where, f"the cell worker sent {what}, so it was stopped (does a cell "
                          "write to deckgen's channel, the worker's original stdout?)",
                          "worker-protocol")


def _write(proc: subprocess.Popen[str], text: str) -> None:
    with contextlib.suppress(OSError, ValueError):  # it died: its answer says so
        assert proc.stdin is not None
        proc.stdin.write(text)
        proc.stdin.flush()


def _end(proc: subprocess.Popen[str]) -> int | None:
    """Kill a worker and its process group, then reap it."""
    if os.name == "posix" and proc.returncode is None:  # not reaped: its group id is ours
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        proc.kill()
    code = proc.wait()
    if proc.stdin is not None:  # (the readers of its stdout and stderr see their end)
        with contextlib.suppress(OSError, ValueError):
            proc.stdin.close()
    return code


def _timeout(cell: Cell | None, default: float) -> float:
    value = cell.options.get("timeout") if cell else None
    return float(value) if value is not None and timeout_problem(value) is None else default


def run_cells(banks: list[Bank], cfg: Config, *, rerun: bool = False, execute: bool = True,
              progress: Progress | None = None
              ) -> tuple[dict[tuple[str, int], list[dict[str, Any]]], list[Diagnostic], int]:
    """Results for every question with cells: ``(bank path, number) -> [result per unit]``.

    A problem :func:`check_cells` finds (or a bad setting) is reported and nothing runs.
    Every worker started here, and every process it started, is gone when this returns or
    raises.
    """
    diags = [d for bank in banks for d in check_cells(bank)]
    if execute:
        diags.extend(settings_problems(cfg))
    if diags:
        return {}, diags, 0
    try:
        runs_with = runtime(cfg.python)
    except RuntimeError as exc:
        where = Location(str(cfg.config_file), 1) if cfg.config_file else None
        return {}, [Diagnostic(where, f"python in deckgen.toml: {exc}", "python")], 0
    jobs = [job for bank in banks for job in make_jobs(bank, runs_with)]
    cache = Cache(cfg.cache_dir)
    results: dict[tuple[str, int], list[dict[str, Any]]] = {}
    todo: list[Job] = []
    for job in jobs:
        hit = None if rerun else cache.get(job.key, len(job.units))
        if hit is not None:
            results[(job.bank.path, job.question.number)] = hit
        else:
            todo.append(job)
    if todo and not execute:
        for job in todo:
            diags.append(Diagnostic(job.cells[0].loc, f"Q{job.question.number}: not in the cache "
                                    "and this build runs no code (--no-exec, or an untrusted "
                                    "bank); its results are missing",
                                    "not-computed", Severity.WARNING))
            results[(job.bank.path, job.question.number)] = [
                {"missing": True} for _ in job.units]
        return results, diags, 0
    if not todo:
        return results, diags, 0

    pending: queue.Queue[Job] = queue.Queue()
    for job in todo:
        pending.put(job)
    lock = threading.Lock()
    done = [0]
    stop = threading.Event()

    def work(worker: Worker) -> None:
        # The worker is started by this thread (Worker.run): on Linux it is killed by the
        # kernel when this thread ends, whatever ends it.
        try:
            while not stop.is_set():
                try:
                    job = pending.get_nowait()
                except queue.Empty:
                    return
                started = time.perf_counter()
                try:
                    out, problem = worker.run(job)
                except Exception as exc:  # noqa: BLE001 - a broken worker is a diagnostic
                    worker.kill()
                    out, problem = None, Diagnostic(job.question.loc, f"cannot run cells: {exc}",
                                                    "worker-died")
                seconds = time.perf_counter() - started
                with lock:
                    runs[job.key] = {"question": job.question.number, "seconds": round(seconds, 2),
                                     "error": str(problem) if problem else None}
                    if problem is not None:
                        diags.append(problem)
                    else:
                        assert out is not None
                        results[(job.bank.path, job.question.number)] = out
                        cache.put(job.key, out)
                    done[0] += 1
                    if progress:
                        progress(done[0], len(todo), job.label)
        finally:
            if warm is None:
                worker.kill()

    runs: dict[str, dict[str, Any]] = {}
    count = max(1, min(cfg.jobs, len(todo)))
    warm = _WARM if _WARM is not None and _WARM.fits(cfg) else None
    workers = warm.take(count) if warm is not None else \
        [Worker(cfg.memory_mb, cfg.timeout, python=cfg.python) for _ in range(count)]
    threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in workers]
    finished = False
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        finished = True
    finally:  # also on Ctrl-C: no worker outlives the build (warm ones outlive a finished one)
        stop.set()
        if warm is None or not finished:
            for w in workers:
                w.kill()
    cache.record_runs(runs)
    return results, diags, len(todo)


PRELOAD = ("numpy", "torch", "sympy", "matplotlib.pyplot")
"""What a warm worker imports before its first job (see deckgen.execute.worker)."""


class WarmWorkers:
    """Cell workers kept from build to build (``deckgen watch``), started with numpy, torch,
    sympy and matplotlib already imported: an edited cell then runs without the seconds
    those imports take. Each question still runs in a fresh namespace with fixed seeds (as
    in a cold build, where one worker also runs many questions in turn); a worker that died,
    timed out or hit its memory cap is replaced at the next build.

    Made and ended by the thread that runs the builds (the workers die with the thread that
    started them, deckgen/execute/worker.py)."""

    def __init__(self, cfg: Config):
        self.memory_mb, self.timeout, self.python = cfg.memory_mb, cfg.timeout, cfg.python
        self.workers = [Worker(cfg.memory_mb, cfg.timeout, PRELOAD, cfg.python)
                        for _ in range(max(1, cfg.jobs))]

    def fits(self, cfg: Config) -> bool:
        return (cfg.memory_mb, cfg.timeout, cfg.python) == \
            (self.memory_mb, self.timeout, self.python)

    def ensure(self) -> None:
        """Start (without waiting for them) the workers that are not running."""
        for w in self.workers:
            if not w.alive():
                w.kill()
                w.spawn()

    def take(self, count: int) -> list[Worker]:
        self.ensure()
        return self.workers[:count]

    def close(self) -> None:
        for w in self.workers:
            w.kill()


_WARM: WarmWorkers | None = None


@contextlib.contextmanager
def warm_workers(cfg: Config):
    """While inside, builds in this thread use (and keep) warm workers."""
    global _WARM
    pool = WarmWorkers(cfg)
    previous, _WARM = _WARM, pool
    try:
        pool.ensure()  # they import while the first build reads the bank
        yield pool
    finally:
        _WARM = previous
        pool.close()


SLOW_SECONDS = 10.0


def cell_report(banks: list[Bank], cfg: Config) -> list[Diagnostic]:
    """For `deckgen check`: cells that failed or were slow the last time they ran, as long as
    their code is unchanged since (no code runs here)."""
    diags: list[Diagnostic] = []
    if cfg.python is not None:  # its keys need that Python's versions: check runs nothing
        return diags
    runs = Cache(cfg.cache_dir).runs()
    for bank in banks:
        for job in make_jobs(bank):
            run = runs.get(job.key)
            if not run:
                continue
            if run.get("error"):
                diags.append(Diagnostic(job.cells[0].loc, f"Q{job.question.number}: its cells "
                                        "failed in the last build and have not changed since",
                                        "failing-cell", Severity.WARNING))
            elif run.get("seconds", 0) > SLOW_SECONDS:
                diags.append(Diagnostic(job.cells[0].loc, f"Q{job.question.number}: its cells "
                                        f"took {run['seconds']:.1f} s in the last run",
                                        "slow-cell", Severity.WARNING))
    return diags

