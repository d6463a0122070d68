"""Cells -> results: cache lookups first, then worker processes for what is missing.

Each question is one job: the bank's setup cells, then the question's cells and inline
expressions in part order, in a namespace of its own. Jobs whose cache key is known are
never sent to a worker, so a rebuild with nothing changed starts no process at all.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deckgen.config import Config
from deckgen.errors import Diagnostic, Location, Severity
from deckgen.execute.cache import Cache, cache_key
from deckgen.model import Bank, Cell, Question

Progress = Callable[[int, int, str], None]
DEFAULT_TIMEOUT = 60.0
START_TIMEOUT = 60.0


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


def make_jobs(bank: Bank, diags: list[Diagnostic]) -> list[Job]:
    jobs = []
    setup = [_unit(c, []) for c in bank.setup]
    for q in bank.questions:
        cells = [c for p in q.parts if p.answer for c in p.answer.cells]
        if not cells:
            continue
        units = []
        for cell in cells:
            pre = []
            for ref in cell.options.get("question-code", "").replace(",", " ").split():
                if not ref.isdigit() or not 1 <= int(ref) <= len(q.code):
                    diags.append(Diagnostic(cell.loc, f"question-code: {ref} does not name one "
                                            f"of question {q.number}'s {len(q.code)} code "
                                            "block(s)", "bad-question-code"))
                    continue
                block = q.code[int(ref) - 1]
                pre.append({"code": block.code, "path": block.loc.path,
                            "first_line": block.loc.line + 1})
            units.append(_unit(cell, pre))
        jobs.append(Job(bank, q, cells, units, setup, cache_key(setup, units)))
    return jobs


class Worker:
    """One worker process with a reader thread; killed and replaced after a timeout."""

    def __init__(self, memory_mb: int, default_timeout: float = DEFAULT_TIMEOUT):
        self.memory_mb = memory_mb
        self.default_timeout = default_timeout
        self.proc: subprocess.Popen[str] | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()

    def start(self) -> None:
        env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1")
        limit = self.memory_mb * 1024 * 1024

        def cap_memory() -> None:  # runs in the child before exec
            import resource
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "deckgen.execute.worker"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
            env=env, preexec_fn=cap_memory if sys.platform != "win32" else None)
        self.lines = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, args=(self.proc, self.lines), daemon=True).start()
        threading.Thread(target=self._drain, args=(self.proc, self.stderr), daemon=True).start()
        first = self._get(START_TIMEOUT)
        if first is None or not first.get("ready"):
            raise RuntimeError(f"the cell worker did not start: {''.join(self.stderr)[-2000:]}")

    @staticmethod
    def _read(proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    @staticmethod
    def _drain(proc: subprocess.Popen[str], sink: list[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if sum(map(len, sink)) < 100_000:
                sink.append(line)

    def _get(self, timeout: float) -> dict[str, Any] | None:
        line = self.lines.get(timeout=timeout)
        return json.loads(line) if line is not None else None

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def run(self, job: Job) -> tuple[list[dict[str, Any]] | None, Diagnostic | None]:
        """Run a job; returns (results, None) or (None, a diagnostic about the failure)."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        assert self.proc is not None and self.proc.stdin is not None
        payload = {"id": job.label, "setup": job.setup, "units": job.units}
        try:
            self.proc.stdin.write(json.dumps(payload) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            self.kill()
            return None, Diagnostic(job.question.loc, "the cell worker exited unexpectedly",
                                    "worker-died")
        results: list[dict[str, Any]] = []
        index = 0
        prepared = False
        while True:
            cell = job.cells[min(index, len(job.cells) - 1)] if job.cells else None
            timeout = _timeout(cell, self.default_timeout) if prepared else START_TIMEOUT
            try:
                message = self._get(timeout)
            except queue.Empty:
                self.kill()
                where = cell.loc if cell and prepared else job.question.loc
                what = "cell" if prepared else "imports and setup code"
                return None, Diagnostic(where, f"{what} timed out after {timeout:g} s (set "
                                        "'#| timeout: N' to allow longer)", "cell-timeout")
            if message is not None and message.get("prepared"):
                prepared = True
                continue
            if message is None:
                code = self.proc.wait() if self.proc else None
                self.proc = None
                where = cell.loc if cell else job.question.loc
                hint = " (memory cap reached?)" if code and code < 0 else ""
                return None, Diagnostic(where, f"the cell worker died with exit code {code}"
                                        f"{hint}: {''.join(self.stderr)[-500:].strip()}",
                                        "worker-died")
            if message.get("done"):
                return results, None
            if not message.get("ok"):
                err = message["error"]
                unit = message.get("unit", -1)
                source = job.setup if unit < 0 else job.units
                failing = job.cells[unit] if unit >= 0 else None
                loc = failing.loc if failing else (Location(source[0]["path"],
                                                            source[0]["first_line"] - 1)
                                                   if source else job.question.loc)
                if err.get("file") and err.get("line"):
                    loc = Location(err["file"], err["line"])
                return None, Diagnostic(loc, f"cell failed: {err['ename']}: {err['evalue']}\n"
                                        f"{err['traceback'].rstrip()}", "cell-error")
            results.append({k: v for k, v in message.items() if k in ("outputs", "value")})
            index += 1


def _timeout(cell: Cell | None, default: float) -> float:
    try:
        return float(cell.options["timeout"]) if cell and "timeout" in cell.options else default
    except ValueError:
        return default


def run_cells(banks: list[Bank], cfg: Config, *, rerun: bool = False, execute: bool = True,
              progress: Progress | None = None
              ) -> tuple[dict[tuple[str, int], list[dict[str, Any]]], list[Diagnostic], int]:
    """Results for every question with cells: ``(bank path, number) -> [result per unit]``."""
    diags: list[Diagnostic] = []
    jobs = [job for bank in banks for job in make_jobs(bank, diags)]
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
                                    "and execution is off (--no-exec); its results are missing",
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

    def work() -> None:
        worker = Worker(cfg.memory_mb, cfg.timeout)
        try:
            while True:
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
            worker.kill()

    runs: dict[str, dict[str, Any]] = {}
    threads = [threading.Thread(target=work, daemon=True)
               for _ in range(max(1, min(cfg.jobs, len(todo))))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cache.record_runs(runs)
    return results, diags, len(todo)


SLOW_SECONDS = 10.0


def cell_report(banks: list[Bank], cfg: Config) -> list[Diagnostic]:
    """For `deckgen check`: cells that failed or were slow the last time they ran, as long as
    their code is unchanged since (no code runs here)."""
    diags: list[Diagnostic] = []
    runs = Cache(cfg.cache_dir).runs()
    for bank in banks:
        for job in make_jobs(bank, []):
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

