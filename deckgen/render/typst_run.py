"""Typst compiles with a time limit.

The typst wheel compiles in the calling process and cannot be interrupted, so every compile
of bank content (a document of cards, the check of one formula) runs in a worker process of
its own: ``python -m deckgen.render.typst_run``. A compile that takes longer than its limit
has its worker killed and raises :class:`TypstTimeout`; the PDF then treats it as any card
Typst cannot set (printed as plain text, with a warning) or any formula it cannot convert (the
fallback). Workers are started when first needed, kept for the next compile (also of the next
build in the same process, e.g. ``deckgen watch``) and killed when the process exits; a worker
whose parent is gone exits by itself, even in the middle of a compile.

Protocol: one JSON object per line each way. A job names a root folder, font folders, and
either ``source`` (Typst markup to compile and discard: a formula check) or ``input`` (a file
to compile into ``output``, then answer ``query`` selectors); the reply is ``{"ok": true,
"query": {...}}`` or ``{"ok": false, "error": "..."}``.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

CHUNK_TIMEOUT = 30.0
"""Seconds one document of cards may take (the default bank's take well under 2 s each)."""
FORMULA_TIMEOUT = 10.0
"""Seconds the check of one formula may take (normally a few milliseconds)."""
START_TIMEOUT = 30.0
"""Seconds a worker may take to start."""
MAX_IDLE = 4
"""Workers kept between compiles."""
_LINE_LIMIT = 4 * 1024 * 1024


class TypstTimeout(Exception):
    """A compile ran past its time limit and was stopped."""

    def __init__(self, seconds: float):
        super().__init__(f"typesetting took longer than {seconds:g} s and was stopped")
        self.message = str(self)
        self.seconds = seconds


class TypstFailed(Exception):
    """Typst refused the document (``message`` is its first error), or the worker broke."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class _Worker:
    def __init__(self) -> None:
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "deckgen.render.typst_run", "--parent", str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.replies: queue.Queue[bytes | None] = queue.Queue()
        self.stderr: list[bytes] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain, daemon=True).start()
        try:
            ready = self._get(START_TIMEOUT)
        except queue.Empty:
            ready = None
        if ready != {"ready": True}:
            self.kill()
            raise TypstFailed("the Typst worker did not start: " +
                              b"".join(self.stderr).decode(errors="replace")[-500:])

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in iter(lambda: self.proc.stdout.readline(_LINE_LIMIT), b""):  # type: ignore
            self.replies.put(line)
        self.replies.put(None)

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for chunk in iter(lambda: self.proc.stderr.read(8192), b""):  # type: ignore
            if sum(map(len, self.stderr)) < 64 * 1024:
                self.stderr.append(chunk)

    def _get(self, timeout: float) -> dict[str, Any] | None:
        line = self.replies.get(timeout=timeout)
        if line is None:
            return None
        try:
            reply = json.loads(line)
        except ValueError:
            return None
        return reply if isinstance(reply, dict) else None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def run(self, job: dict[str, Any], timeout: float) -> dict[str, Any]:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps({**job, "timeout": timeout}).encode() + b"\n")
            self.proc.stdin.flush()
            reply = self._get(timeout)
        except queue.Empty:
            self.kill()
            raise TypstTimeout(timeout) from None
        except OSError as exc:
            self.kill()
            raise TypstFailed(f"the Typst worker stopped ({exc})") from exc
        if reply is None:
            self.kill()
            raise TypstFailed("the Typst worker stopped: " +
                              b"".join(self.stderr).decode(errors="replace")[-500:])
        return reply

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            with contextlib.suppress(OSError, ValueError):
                if pipe is not None:
                    pipe.close()


class _Pool:
    """Idle workers, shared by the threads that typeset chunks in parallel."""

    def __init__(self) -> None:
        self.idle: list[_Worker] = []
        self.lock = threading.Lock()
        atexit.register(self.close)

    def run(self, job: dict[str, Any], timeout: float) -> dict[str, Any]:
        with self.lock:
            worker = self.idle.pop() if self.idle else None
        if worker is not None and not worker.alive():
            worker.kill()
            worker = None
        if worker is None:
            worker = _Worker()
        try:
            reply = worker.run(job, timeout)
        except BaseException:
            worker.kill()  # (a timeout or a broken worker: killed already)
            raise
        with self.lock:
            if len(self.idle) < MAX_IDLE:
                self.idle.append(worker)
                worker = None
        if worker is not None:
            worker.kill()
        return reply

    def close(self) -> None:
        with self.lock:
            idle, self.idle = self.idle, []
        for worker in idle:
            worker.kill()


_POOL = _Pool()


def _check(reply: dict[str, Any]) -> dict[str, Any]:
    if reply.get("ok") is not True:
        raise TypstFailed(str(reply.get("error") or "Typst failed"))
    return reply


def compile_file(main: Path, root: Path, font_paths: list[str], output: Path,
                 queries: tuple[str, ...] = (), timestamp: int | None = None,
                 timeout: float | None = None) -> dict[str, str]:
    """Compile ``main`` (inside ``root``) to the PDF ``output``; the JSON answers to
    ``queries`` (selectors, their ``value`` field). Raises TypstFailed with Typst's error, or
    TypstTimeout after ``timeout`` seconds (default ``CHUNK_TIMEOUT``)."""
    reply = _check(_POOL.run({"root": str(root), "fonts": font_paths, "input": str(main),
                              "output": str(output), "query": list(queries),
                              "timestamp": timestamp},
                             CHUNK_TIMEOUT if timeout is None else timeout))
    answers = reply.get("query")
    if not isinstance(answers, dict) or set(answers) != set(queries) or \
            not all(isinstance(v, str) for v in answers.values()):
        raise TypstFailed("the Typst worker answered something else")
    return answers


class FormulaCompiler:
    """What ``MathConverter`` checks formulas with: ``compile(input=bytes)`` in a worker,
    each within ``FORMULA_TIMEOUT``; raises what ``compile_file`` raises."""

    def __init__(self, root: Path, font_paths: list[str]):
        self.root = str(root)
        self.font_paths = font_paths

    def compile(self, input: bytes, format: str = "pdf") -> None:  # noqa: A002 - typst's name
        _check(_POOL.run({"root": self.root, "fonts": self.font_paths,
                          "source": input.decode("utf-8", "surrogatepass"), "format": format},
                         FORMULA_TIMEOUT))


# -- the worker ----------------------------------------------------------------------------

def _serve(parent: int) -> None:
    import typst

    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write to the channel
    busy_since: list[float] = []  # while a job runs: when it is overdue

    def watchdog() -> None:
        # the parent kills a worker that overruns; if the parent is gone (or cannot), the
        # worker ends itself: never a process left spinning
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(2)
            if busy_since and time.monotonic() > busy_since[0]:
                os._exit(3)

    threading.Thread(target=watchdog, daemon=True).start()
    fonts: dict[tuple[str, ...], Any] = {}
    compilers: dict[tuple[str, tuple[str, ...]], Any] = {}

    def send(message: dict[str, Any]) -> None:
        out.write(json.dumps(message).encode() + b"\n")
        out.flush()

    send({"ready": True})
    for line in sys.stdin.buffer:
        try:
            job = json.loads(line)
            paths = tuple(job["fonts"])
            if paths not in fonts:
                fonts[paths] = typst.Fonts(include_system_fonts=False, font_paths=list(paths))
            # past its limit (and a margin) the parent has killed the worker, or should have
            busy_since[:] = [time.monotonic() + float(job["timeout"]) + 10]
            if "source" in job:
                key = (job["root"], paths)
                if key not in compilers:
                    compilers[key] = typst.Compiler(root=job["root"], font_paths=fonts[paths],
                                                    ignore_system_fonts=True)
                compilers[key].compile(input=job["source"].encode("utf-8", "surrogatepass"),
                                       format=job.get("format", "pdf"))
                reply: dict[str, Any] = {"ok": True}
            else:
                compiler = typst.Compiler(input=job["input"], root=job["root"],
                                          font_paths=fonts[paths], ignore_system_fonts=True)
                data = compiler.compile(format="pdf", timestamp=job.get("timestamp"),
                                        pdf_tags=False)
                if not isinstance(data, bytes):
                    raise TypeError("typst returned no PDF")
                Path(job["output"]).write_bytes(data)
                reply = {"ok": True, "query": {q: compiler.query(q, field="value")
                                               for q in job.get("query", [])}}
        except Exception as exc:  # noqa: BLE001 - typst.TypstError and any other failure
            reply = {"ok": False, "error": str(getattr(exc, "message", "") or exc) or
                     type(exc).__name__}
        busy_since.clear()
        send(reply)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="deckgen's Typst worker (internal)")
    parser.add_argument("--parent", type=int, required=True)
    _serve(parser.parse_args().parent)
