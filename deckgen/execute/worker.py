"""The worker process: runs one question's cells at a time and answers in JSON lines.

Started by :mod:`deckgen.execute.runner` as ``python -m deckgen.execute.worker``. It imports
nothing heavy itself: torch, numpy and matplotlib are imported (and seeded) only when the
question's code names them. Cell code is compiled with the answers file as its filename and
padded to its real line, so tracebacks point at ``answers/x.md:57``.

Before any cell runs, the worker contains itself (docs/ANSWERS.md, "Containment"): it caps its
address space, asks the kernel to kill it when the deckgen thread that started it goes away,
refuses to start processes (a seccomp filter on Linux, an audit hook everywhere), and kills
itself and its process group as soon as deckgen's end of its input pipe closes. What cells
show is capped too (the ``*_LIMIT`` constants below), and a capped output says so.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import io
import json
import os
import queue
import random
import re
import signal
import sys
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing (and traceback, imported on a failure) cost a worker start time
    from typing import Any, BinaryIO

OUTPUT_LIMIT = 200_000  # characters of printed text kept per cell
VALUE_LIMIT = 200_000  # characters of a cell's last value (its text or LaTeX)
INLINE_LIMIT = 10_000  # characters of an inline `{python} expr` value
IMAGE_LIMIT = 5_000_000  # bytes of one figure
QUESTION_LIMIT = 10_000_000  # characters (as sent, JSON) of all that one question's cells show
ERROR_LIMIT = 4_000  # characters of an error message, and of each traceback entry
SEED = 0


class _Capped(io.TextIOBase):
    """A text sink that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit: int = OUTPUT_LIMIT):
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0
        self.limit = limit

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        room = self.limit - self.size
        if room > 0:
            self.parts.append(s[:room])
            self.size += min(len(s), room)
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def text(self) -> str:
        out = "".join(self.parts)
        if self.dropped:
            out += f"\n... [{self.dropped} more characters of output not shown]\n"
        return out


def _clip(text: str, limit: int, what: str = "") -> str:
    """``text`` cut to ``limit`` characters, saying how many were left out."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n... [{len(text) - limit} more characters{what} not shown]"


def _prepare(code: str) -> None:
    """Import and seed what the question's code uses, so results never depend on job order."""
    random.seed(SEED)
    if re.search(r"\bnumpy\b|\bnp\.", code):
        import numpy as np
        np.random.seed(SEED)
        np.set_printoptions(precision=4, suppress=True)
    if re.search(r"\btorch\b", code):
        import torch
        torch.manual_seed(SEED)
        torch.set_printoptions(precision=4, sci_mode=False)
        torch.use_deterministic_algorithms(True, warn_only=True)
    if re.search(r"\bmatplotlib\b|\bplt\b", code):
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        plt.close("all")
        matplotlib.rcdefaults()
        matplotlib.rcParams["svg.hashsalt"] = "deckgen"
        matplotlib.rcParams["figure.dpi"] = 100


def _figures() -> list[dict[str, Any]]:
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return []
    out = []
    for num in plt.get_fignums():
        fig = plt.figure(num)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
        plt.close(fig)
        svg = buf.getvalue()
        size = len(svg.encode("utf-8"))
        if size > IMAGE_LIMIT:
            out.append(_note(f"[figure not shown: it is {size:,} bytes, over the limit of "
                             f"{IMAGE_LIMIT:,} bytes for one figure]"))
        else:
            out.append({"type": "display", "data": {"image/svg+xml": svg}})
    return out


def _note(text: str) -> dict[str, Any]:
    """An output that tells the card what was left out."""
    return {"type": "stream", "data": {"text/plain": text}}


def _is_sympy(value: Any) -> bool:
    return type(value).__module__.split(".")[0] == "sympy"


def display_data(value: Any) -> dict[str, str] | None:
    """A MIME bundle for a cell's last value, or None if there is nothing to show.

    A value longer than ``VALUE_LIMIT`` is cut and says so; LaTeX that long is not cut (that
    would break the formula) but left out, so the value shows as (cut) text.
    """
    if value is None:
        return None
    module = type(value).__module__.split(".")[0]
    if module == "matplotlib":
        return None  # the figure itself is captured
    if _is_sympy(value):
        import sympy
        latex, text = sympy.latex(value), str(value)
        if len(latex) <= VALUE_LIMIT:
            return {"text/latex": latex, "text/plain": _clip(text, VALUE_LIMIT, " of this value")}
        return {"text/plain": _clip(text, VALUE_LIMIT, " of this value")}
    text = repr(value)
    if _ADDRESS.search(text):
        # '[<matplotlib.lines.Line2D object at 0x7f3a...>]': a memory address says nothing
        # to a reader, and changes from run to run (the card would change with it)
        return None
    return {"text/plain": _clip(text, VALUE_LIMIT, " of this value")}


_ADDRESS = re.compile(r"<[^<>]* at 0x[0-9a-fA-F]{6,}>")
"""Python's default repr of an object: its type and its memory address."""


def inline_value(value: Any) -> str:
    if _is_sympy(value):
        import sympy
        text = sympy.latex(value)
    else:
        text = str(value)
    if len(text) <= INLINE_LIMIT:
        return text
    return text[:INLINE_LIMIT] + f" ... [{len(text) - INLINE_LIMIT} more characters not shown]"


def _compile(code: str, path: str, first_line: int, mode: str):
    return compile("\n" * max(first_line - 1, 0) + code, path, mode)


def _run_unit(unit: dict[str, Any], ns: dict[str, Any]) -> dict[str, Any]:
    out, err = _Capped(), _Capped(20_000)
    result: dict[str, Any] = {}
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        for pre in unit.get("pre", []):
            exec(_compile(pre["code"], pre["path"], pre["first_line"], "exec"), ns)
        if unit.get("inline"):
            value = eval(_compile(unit["code"].strip(), unit["path"], unit["first_line"],
                                  "eval"), ns)
            result["value"] = inline_value(value)
        else:
            tree = ast.parse("\n" * max(unit["first_line"] - 1, 0) + unit["code"], unit["path"])
            last = None
            if tree.body and isinstance(tree.body[-1], ast.Expr) and \
                    not unit["code"].rstrip().endswith(";"):
                last = ast.Expression(tree.body.pop().value)
            exec(compile(tree, unit["path"], "exec"), ns)
            value = eval(compile(last, unit["path"], "eval"), ns) if last else None
    outputs: list[dict[str, Any]] = []
    if not unit.get("inline"):
        text = out.text()
        if text:
            outputs.append({"type": "stream", "data": {"text/plain": text}})
        bundle = display_data(value)
        if bundle:
            outputs.append({"type": "result", "data": bundle})
        outputs.extend(_figures())
        result["outputs"] = outputs
    return result


class _Budget:
    """What one question's cells may show in all (``QUESTION_LIMIT``, measured as sent)."""

    def __init__(self) -> None:
        self.limit = self.left = QUESTION_LIMIT

    def _take(self, item: Any) -> bool:
        size = len(json.dumps(item))
        if size > self.left:
            return False
        self.left -= size
        return True

    def apply(self, result: dict[str, Any]) -> dict[str, Any]:
        note = (f"[output not shown: it would take what this question's cells show over "
                f"{self.limit:,} characters, the most one question may show]")
        if "value" in result and not self._take(result["value"]):
            result["value"] = note
        if "outputs" in result:
            result["outputs"] = [o if self._take(o) else _note(note) for o in result["outputs"]]
        return result


def _text(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # noqa: BLE001 - a cell's exception may not even print
        return f"<{type(exc).__name__} that cannot be printed>"


def _error(exc: BaseException, paths: set[str] | None = None) -> dict[str, Any]:
    """The failure as the parent reports it, located at the deepest line of the bank's own
    code (``paths``: the answers and question files the job's code comes from)."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    # keep only frames from the bank's code and below; drop this module's own frames
    keep = [f for f in frames if f.filename != __file__]
    ours = [f for f in keep if paths is None or f.filename in paths]
    file, line = (ours[-1].filename, ours[-1].lineno) if ours else (None, None)
    if isinstance(exc, SyntaxError) and exc.lineno and (paths is None or exc.filename in paths):
        file, line = exc.filename, exc.lineno
    evalue = _clip(_text(exc), ERROR_LIMIT)
    try:
        last = "".join(traceback.format_exception_only(type(exc), exc))
    except Exception:  # noqa: BLE001
        last = f"{type(exc).__name__}: {evalue}\n"
    lines = [_clip(entry, ERROR_LIMIT) for entry in traceback.format_list(keep[-4:])]
    lines.append(_clip(last, ERROR_LIMIT) + ("" if last.endswith("\n") else "\n"))
    return {"ename": type(exc).__name__, "evalue": evalue, "traceback": "".join(lines),
            "line": line, "file": file}


def run_job(job: dict[str, Any], send) -> None:
    ns: dict[str, Any] = {"__name__": "__main__"}
    all_code = "\n".join([u["code"] for u in job["setup"] + job["units"]] +
                         [p["code"] for u in job["units"] for p in u.get("pre", [])])
    paths = {u["path"] for u in job["setup"] + job["units"]} | \
        {p["path"] for u in job["units"] for p in u.get("pre", [])}
    try:
        _prepare(all_code)
        for unit in job["setup"]:
            _run_unit(unit, ns)
    except BaseException as exc:  # noqa: BLE001 - everything is reported to the parent
        send({"job": job["id"], "unit": -1, "ok": False, "error": _error(exc, paths)})
        return
    send({"job": job["id"], "prepared": True})  # imports and setup done: cell timeouts start
    budget = _Budget()
    for index, unit in enumerate(job["units"]):
        try:
            result = budget.apply(_run_unit(unit, ns))
        except BaseException as exc:  # noqa: BLE001
            send({"job": job["id"], "unit": index, "ok": False, "error": _error(exc, paths)})
            return
        send({"job": job["id"], "unit": index, "ok": True, **result})
    send({"job": job["id"], "done": True})


# -- containment --------------------------------------------------------------------------------

REFUSED_EVENTS = frozenset({"os.exec", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn",
                            "os.system", "os.startfile", "subprocess.Popen"})
"""Audit events that start (or replace) a process: refused while cells run."""
REFUSED = ("cells may not start processes ({event} refused): deckgen runs a question's cells in "
           "one contained process (see 'Containment' in docs/ANSWERS.md)")

_PR_SET_PDEATHSIG = 1
_PR_SET_SECCOMP = 22
_PR_SET_NO_NEW_PRIVS = 38
_SECCOMP_MODE_FILTER = 2
_CLONE_THREAD = 0x00010000
_X32_SYSCALL_BIT = 0x40000000
# audit architecture and the syscall numbers the filter looks at (aarch64 has no fork/vfork)
_SYSCALLS: dict[str, tuple[int, dict[str, int]]] = {
    "x86_64": (0xC000003E, {"clone": 56, "fork": 57, "vfork": 58, "execve": 59,
                            "execveat": 322, "clone3": 435, "prctl": 157}),
    "aarch64": (0xC00000B7, {"clone": 220, "execve": 221, "execveat": 281, "clone3": 435,
                             "prctl": 167}),
}


def _refuse_processes(event: str, _args: Any) -> None:
    """An audit hook: a clear error where Python would start a process (not a boundary by
    itself: ctypes can call libc directly; the seccomp filter is the boundary)."""
    if event in REFUSED_EVENTS:
        raise PermissionError(REFUSED.format(event=event))


def seccomp_program(arch: int, nr: dict[str, int]) -> bytes:
    """A classic-BPF seccomp filter: threads may be created; fork, vfork, clone without
    CLONE_THREAD, execve and execveat fail with EPERM; clone3 fails with ENOSYS (its flags are
    out of the filter's reach, and libc then falls back to clone); prctl(PR_SET_PDEATHSIG)
    fails, so a cell cannot undo the kill-on-parent-death. Any other ABI (x32, i386) fails."""
    import errno
    import struct

    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06  # BPF_LD|W|ABS, JMP|JEQ/JGE/JSET|K
    allow, fail = 0x7FFF0000, 0x00050000  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | errno
    program: list[tuple[int, str | None, str | None, int]] = []
    labels: dict[str, int] = {}

    def op(code: int, k: int, yes: str | None = None, no: str | None = None) -> None:
        program.append((code, yes, no, k))

    op(ld, 4)  # seccomp_data.arch
    op(jeq, arch, None, "deny")
    op(ld, 0)  # seccomp_data.nr
    op(jge, _X32_SYSCALL_BIT, "deny")
    op(jeq, nr["clone"], "clone")
    op(jeq, nr["clone3"], "enosys")
    for name in ("fork", "vfork", "execve", "execveat"):
        if name in nr:
            op(jeq, nr[name], "deny")
    op(jeq, nr["prctl"], "prctl")
    op(ret, allow)
    labels["clone"] = len(program)
    op(ld, 16)  # low half of args[0]: clone's flags
    op(jset, _CLONE_THREAD, "allow", "deny")
    labels["prctl"] = len(program)
    op(ld, 16)  # prctl's option
    op(jeq, _PR_SET_PDEATHSIG, "deny", "allow")
    labels["enosys"] = len(program)
    op(ret, fail | errno.ENOSYS)
    labels["deny"] = len(program)
    op(ret, fail | errno.EPERM)
    labels["allow"] = len(program)
    op(ret, allow)
    code = b""
    for i, (kind, yes, no, k) in enumerate(program):
        jt, jf = (labels[t] - i - 1 if t else 0 for t in (yes, no))
        code += struct.pack("=HBBI", kind, jt, jf, k)
    return code


_LIBC: list[Any] = []


def _libc():
    import ctypes
    if not _LIBC:
        _LIBC.append(ctypes.CDLL(None, use_errno=True))
    return _LIBC[0]


def _prctl(option: int, *args: Any) -> int:
    """prctl(2) with unused arguments zero (integers passed as unsigned long, as it reads them)."""
    import ctypes
    values = [ctypes.c_ulong(a) if isinstance(a, int) else a for a in args]
    values += [ctypes.c_ulong(0)] * (4 - len(values))
    return _libc().prctl(ctypes.c_int(option), *values)


def _die_with_parent(parent: int) -> bool:
    """SIGKILL this worker when the deckgen thread that started it ends (Linux), and end now
    if deckgen is already gone."""
    armed = False
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            armed = _prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL)) == 0
    if parent and os.getppid() != parent:
        os._exit(0)  # deckgen died before the line above: nobody is waiting for us
    return armed


def _seccomp_table() -> tuple[int, dict[str, int]] | None:
    return _SYSCALLS.get(os.uname().machine) if sys.platform.startswith("linux") else None


def _install_seccomp() -> bool:
    table = _seccomp_table()
    if table is None:
        return False
    try:
        import ctypes
        code = seccomp_program(*table)
        buffer = (ctypes.c_char * len(code)).from_buffer_copy(code)

        class Program(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

        program = Program(len(code) // 8, ctypes.addressof(buffer))
        if _prctl(_PR_SET_NO_NEW_PRIVS, 1) != 0:
            return False
        return _prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(program)) == 0
    except (OSError, AttributeError):
        return False


def _cap_memory(memory_mb: int) -> int | None:
    try:
        import resource
    except ImportError:
        return None
    try:
        limit = memory_mb * 1024 * 1024
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no core dump
    except (ValueError, OSError):
        return None
    return limit


def _start_janitor(death_fd: int) -> bool:
    """Fork a child that waits until deckgen's end of ``death_fd`` closes (deckgen ended the
    worker, or died, even by SIGKILL) and then kills the worker's process group, itself
    included. Only needed where cells may start processes: the worker itself may be killed
    by the kernel at that moment, before it could clean up."""
    leader = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        return False
    if pid:
        return True
    try:  # the janitor: keeps nothing open but the pipe (not deckgen's channel either)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.closerange(3, death_fd)
        os.closerange(death_fd + 1, 1 << 16)
        while os.read(death_fd, 64):
            pass
        if os.getpgrp() == leader:
            os.killpg(leader, signal.SIGKILL)
    finally:
        os._exit(0)


def contain(memory_mb: int, parent: int = 0, refuse_processes: bool = True,
            death_fd: int | None = None) -> dict[str, Any]:
    """Limit this process before any cell runs; returns what is in force (for the parent).

    Call it before any thread starts: the janitor is forked here."""
    armed = _die_with_parent(parent)
    memory = _cap_memory(memory_mb)
    janitor = False
    if death_fd is not None:
        if os.name == "posix" and not (refuse_processes and _seccomp_table()):
            janitor = _start_janitor(death_fd)
        os.close(death_fd)
    processes = "allowed"
    if refuse_processes:
        sys.addaudithook(_refuse_processes)
        processes = "seccomp" if _install_seccomp() else "audit-hook"
    return {"memory": memory, "processes": processes,
            "parent-death": "pdeathsig" if armed else "pipe", "janitor": janitor}


def _end_group() -> None:
    """deckgen closed our input (or died): end this worker and every process in its group."""
    with contextlib.suppress(OSError):
        if os.name == "posix" and os.getpgrp() == os.getpid():  # our own group (runner.py)
            os.killpg(os.getpid(), signal.SIGKILL)
    os._exit(0)


def _read_jobs(stream: BinaryIO, jobs: queue.Queue[bytes]) -> None:
    """Runs in a thread, so a closed pipe is seen even while a cell is running."""
    for line in stream:
        jobs.put(line)
    _end_group()


PRELOADABLE = ("numpy", "torch", "sympy", "matplotlib.pyplot", "scipy")
"""What ``--preload`` may import before the worker says it is ready."""


def main(argv: list[str] | None = None) -> None:
    """``--memory-mb N``, ``--parent PID`` (deckgen's), ``--death-fd FD`` (a pipe deckgen
    holds open while it wants this worker), ``--allow-processes``, ``--preload a,b`` (of
    PRELOADABLE: imported once, before any job; each job still starts from a fresh namespace
    and fixed seeds, see run_job and _prepare)."""
    args = sys.argv[1:] if argv is None else argv
    options: dict[str, int] = {"--memory-mb": 4096, "--parent": 0}
    death_fd = None
    preload: list[str] = []
    for flag, value in zip(args, args[1:] + [""]):
        if flag in options:
            options[flag] = int(value)
        elif flag == "--death-fd":
            death_fd = int(value)
        elif flag == "--preload":
            preload = [m for m in value.split(",") if m in PRELOADABLE]
    refuse = "--allow-processes" not in args
    # The protocol owns the real stdin and stdout; cells get an empty stdin, and anything
    # else written to fd 1 (C extensions) goes to stderr so it can never corrupt a message.
    jobs_in = os.fdopen(os.dup(0), "rb")
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - lives as long as we do
    os.dup2(2, 1)
    sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", 0), write_through=True)

    def send(message: dict[str, Any]) -> None:
        proto.write(json.dumps(message) + "\n")
        proto.flush()

    contained = contain(options["--memory-mb"], options["--parent"], refuse, death_fd)
    for module in preload:  # a warm worker (deckgen watch): the slow imports done once
        with contextlib.suppress(Exception):
            importlib.import_module(module)
    jobs: queue.Queue[bytes] = queue.Queue()
    threading.Thread(target=_read_jobs, args=(jobs_in, jobs), daemon=True).start()
    send({"ready": True, "containment": contained})
    while True:
        line = jobs.get()
        if line.strip():
            run_job(json.loads(line), send)


if __name__ == "__main__":
    main()


__all__ = ["main", "run_job", "display_data", "contain", "seccomp_program"]
