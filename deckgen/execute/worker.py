"""The worker process: runs one question's cells at a time and answers in JSON lines.

Started by :mod:`deckgen.execute.runner` as ``python -m deckgen.execute.worker``. It imports
nothing heavy itself: torch, numpy and matplotlib are imported (and seeded) only when the
question's code names them. Cell code is compiled with the answers file as its filename and
padded to its real line, so tracebacks point at ``answers/x.md:57``.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import random
import re
import sys
import traceback
from typing import Any

OUTPUT_LIMIT = 200_000  # characters of printed text kept per cell
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
        out.append({"type": "display", "data": {"image/svg+xml": buf.getvalue()}})
        plt.close(fig)
    return out


def _is_sympy(value: Any) -> bool:
    return type(value).__module__.split(".")[0] == "sympy"


def display_data(value: Any) -> dict[str, str] | None:
    """A MIME bundle for a cell's last value, or None if there is nothing to show."""
    if value is None:
        return None
    module = type(value).__module__.split(".")[0]
    if module == "matplotlib":
        return None  # the figure itself is captured
    if _is_sympy(value):
        import sympy
        return {"text/latex": sympy.latex(value), "text/plain": str(value)}
    return {"text/plain": repr(value)}


def inline_value(value: Any) -> str:
    if _is_sympy(value):
        import sympy
        return sympy.latex(value)
    return str(value)


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


def _error(exc: BaseException) -> dict[str, Any]:
    frames = traceback.extract_tb(exc.__traceback__)
    # keep only frames from the bank's code and below; drop this module's own frames
    keep = [f for f in frames if f.filename != __file__]
    lines = traceback.format_list(keep[-4:]) + traceback.format_exception_only(type(exc), exc)
    return {"ename": type(exc).__name__, "evalue": str(exc), "traceback": "".join(lines),
            "line": keep[-1].lineno if keep else None,
            "file": keep[-1].filename if keep else None}


def run_job(job: dict[str, Any], send) -> None:
    ns: dict[str, Any] = {"__name__": "__main__"}
    all_code = "\n".join([u["code"] for u in job["setup"] + job["units"]] +
                         [p["code"] for u in job["units"] for p in u.get("pre", [])])
    try:
        _prepare(all_code)
        for unit in job["setup"]:
            _run_unit(unit, ns)
    except BaseException as exc:  # noqa: BLE001 - everything is reported to the parent
        send({"job": job["id"], "unit": -1, "ok": False, "error": _error(exc)})
        return
    send({"job": job["id"], "prepared": True})  # imports and setup done: cell timeouts start
    for index, unit in enumerate(job["units"]):
        try:
            result = _run_unit(unit, ns)
        except BaseException as exc:  # noqa: BLE001
            send({"job": job["id"], "unit": index, "ok": False, "error": _error(exc)})
            return
        send({"job": job["id"], "unit": index, "ok": True, **result})
    send({"job": job["id"], "done": True})


def main() -> None:
    # The protocol owns the real stdout; anything else written to fd 1 (C extensions) goes
    # to stderr so it can never corrupt a message.
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", 0), write_through=True)

    def send(message: dict[str, Any]) -> None:
        proto.write(json.dumps(message) + "\n")
        proto.flush()

    send({"ready": True})
    for line in sys.stdin:
        if not line.strip():
            continue
        run_job(json.loads(line), send)


if __name__ == "__main__":
    main()


__all__ = ["main", "run_job", "display_data"]
