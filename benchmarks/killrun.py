"""Kill builds at random moments on a slow disk, many times, and count what went wrong.

    python benchmarks/killrun.py              # 200 runs (about 10 minutes on 2 cores)
    python benchmarks/killrun.py --runs 20    # a quick look

Each run starts from the outputs of version 1 of a small bank (a Python cell, a figure-free
PDF, the lock), with the bank already edited to version 2, and builds it in a child process
whose renames and fsyncs each take 30 ms (a slow disk). The child is sent SIGKILL at a random
moment of its build. In every other run an edit is saved to the question file while the build
runs (before the kill), as a user saving in the editor would. Then, as the user's next
command would, a normal build runs. Counted:

- mixed sets: the outputs and the lock after the kill are neither version 1's nor version
  2's, byte for byte, once the next command has finished a commit the kill interrupted
  (deckgen's first step in every build); runs without a mid-build edit;
- lost edits: the next build does not show the edit saved during the killed one (it said
  "nothing changed", or its cards lack the edit);
- orphans: processes the killed build started (its cell worker) still alive 2 s later
  (found by an environment token only the killed build and its children carry);
- leftovers: temporary files or journals left after the next build;
- failures: the next build failed.

Prints one line per run with a failure and the totals; exits 1 if any count is not 0.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

Q1 = """# Kill run

## Basics

1. What does a perceptron compute, in one sentence?

---

2. Why does depth help?

   1. Part one?
   2. Part two?
"""
Q2 = Q1 + "\n---\n\n3. How many weights has a 3-4-2 network, biases included?\n"
A1 = """## 1
A weighted sum of its inputs, then a step.

## 2.1
B.

## 2.2
C.
"""
A2 = A1.replace("B.", "B, better.") + """
## 3
```{python}
#| echo: false
import time
time.sleep(0.3)  # a cell that takes a moment, so kills land while it runs too
print((3 + 1) * 4 + (4 + 1) * 2)
```
"""
EDIT = "(edited during the build)"

CHILD = """
import os, sys, time
from pathlib import Path
time.time = lambda: 2_000_000_000.0  # note mtimes: the same new set in every run
real_replace, real_fsync = os.replace, os.fsync
def replace(src, dst, **kw):
    time.sleep(0.03)  # a slow disk
    return real_replace(src, dst, **kw)
def fsync(fd):
    time.sleep(0.03)
    return real_fsync(fd)
os.replace, os.fsync = replace, fsync
from deckgen import config
from deckgen.pipeline import build
cfg = config.override(config.load(Path(sys.argv[1])), out=Path(sys.argv[2]))
print("go", flush=True)
build(cfg)
"""

RECOVER = """
import sys
from pathlib import Path
from deckgen import atomic, config
cfg = config.override(config.load(Path(sys.argv[1])), out=Path(sys.argv[2]))
atomic.recover(cfg.root, cfg.out, *dict.fromkeys(p.parent for p in (*cfg.sources, *cfg.answers)),
               deep=[cfg.cache_dir])
"""


def snapshot(bank: Path, out: Path) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()
             and not p.name.endswith(".tmp") and not p.name.startswith(".deckgen-commit")
             and p.name != ".deckgen-build.json"}
    lock = bank / "deckgen.lock"
    files["deckgen.lock"] = lock.read_bytes() if lock.exists() else b""
    return files


def restore(bank: Path, out: Path, files: dict[str, bytes]) -> None:
    for p in list(out.iterdir()):
        if p.is_file():
            p.unlink()
    for name, data in files.items():
        (bank / name if name == "deckgen.lock" else out / name).write_bytes(data)
    for p in bank.iterdir():
        if p.name.startswith(".deckgen-commit") or p.name.endswith(".tmp"):
            p.unlink()
    for p in (out / "cache").iterdir() if (out / "cache").is_dir() else ():
        if p.is_dir() and p.name != "pdf":  # cell results: the cell runs again every time
            shutil.rmtree(p)


def leftovers(*roots: Path) -> list[Path]:
    return sorted(p for root in roots for p in root.rglob("*")
                  if p.name.endswith(".tmp") or p.name.startswith(".deckgen-commit"))


def carriers(token: str) -> list[int]:
    """Live processes whose environment holds ``token``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().split(") ", 1)[1][0]
        except (OSError, IndexError):
            continue
        if token.encode() in env and state != "Z":
            found.append(int(entry.name))
    return found


def run_cli(bank: Path, out: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "deckgen", "build", "--trust", str(bank),
                           "-o", str(out)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--seed", type=int, default=200)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="deckgen-killrun-"))
    env = {**os.environ, "DECKGEN_CACHE_KEY_FILE": str(work / "key"),
           "DECKGEN_TRUST_FILE": str(work / "trusted.json")}
    bank, out = work / "bank", work / "out"
    (bank / "answers").mkdir(parents=True)
    (bank / "deckgen.toml").write_text('name = "Kill run"\nsources = ["q.md"]\n'
                                       'answers = ["answers/*.md"]\n')
    (bank / "q.md").write_text(Q1)
    (bank / "answers" / "a.md").write_text(A1)
    if run_cli(bank, out, env).returncode:
        raise SystemExit("the first build failed")
    old = snapshot(bank, out)
    (bank / "q.md").write_text(Q2)
    (bank / "answers" / "a.md").write_text(A2)
    child_env = {**env, "PYTHONPATH": str(ROOT)}
    ref = subprocess.Popen([sys.executable, "-c", CHILD, str(bank), str(out)], env=child_env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert ref.stdout is not None
    ref.stdout.readline()
    started = time.perf_counter()
    _, err = ref.communicate(timeout=300)
    took = time.perf_counter() - started  # from "go" to the end: the span kills land in
    if ref.returncode:
        raise SystemExit(f"the version 2 build failed:\n{err}")
    new = snapshot(bank, out)
    print(f"a whole build of version 2 takes {took:.2f} s on the slowed disk; "
          f"{args.runs} runs", flush=True)
    rng = random.Random(args.seed)
    counts = dict.fromkeys(("mixed", "lost edits", "orphans", "leftovers", "failures"), 0)
    sides = {"old": 0, "new": 0, "other": 0}
    workers = midway = 0
    for run in range(args.runs):
        restore(bank, out, old)
        (bank / "q.md").write_text(Q2)
        edit = run % 2 == 1
        token = uuid.uuid4().hex
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(bank), str(out)],
                                env={**child_env, "DECKGEN_KILLRUN_TOKEN": token},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=ROOT)
        assert proc.stdout is not None
        proc.stdout.readline()  # "go": the build starts
        t0 = time.perf_counter()
        kill_after = rng.uniform(0, took * 1.05)
        if edit:
            edit_after = rng.uniform(0, kill_after)
            time.sleep(edit_after)
            (bank / "q.md").write_text(Q2.replace("in one sentence?", f"in one sentence? {EDIT}"))
        time.sleep(max(0.0, kill_after - (time.perf_counter() - t0)))
        if [pid for pid in carriers(token) if pid != proc.pid]:
            workers += 1  # the cell worker was alive when the kill came
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        problems = []
        if not edit:
            # a commit the kill interrupted is finished by whatever deckgen command runs
            # next (its journal says how), before it reads anything: what a user can see
            if snapshot(bank, out) not in (old, new):
                midway += 1
            subprocess.run([sys.executable, "-c", RECOVER, str(bank), str(out)], env=child_env,
                           check=True, cwd=ROOT)
            now = snapshot(bank, out)
            side = "old" if now == old else "new" if now == new else "other"
            sides[side] += 1
            if side == "other":
                counts["mixed"] += 1
                problems.append("mixed set: " + ", ".join(
                    sorted(k for k in {*new, *old, *now}
                           if now.get(k) not in (old.get(k), new.get(k)))))
        deadline = time.monotonic() + 2
        while carriers(token) and time.monotonic() < deadline:
            time.sleep(0.05)
        alive = carriers(token)
        if alive:
            counts["orphans"] += 1
            problems.append(f"orphaned processes {alive}")
            for pid in alive:
                os.kill(pid, signal.SIGKILL)
        nxt = run_cli(bank, out, env)
        if nxt.returncode:
            counts["failures"] += 1
            problems.append(f"next build failed: {nxt.stderr.strip()[-300:]}")
        elif edit:
            text = (out / "kill-run.json").read_text()
            if EDIT not in text:
                counts["lost edits"] += 1
                problems.append("the edit saved during the killed build is not in the cards"
                                + (" (the next build said nothing changed)"
                                   if "nothing changed" in nxt.stdout else ""))
        left = leftovers(bank, out)
        if left:
            counts["leftovers"] += 1
            problems.append(f"left behind: {[str(p.relative_to(work)) for p in left]}")
        if problems:
            print(f"run {run} (kill after {kill_after:.2f} s{', edit' if edit else ''}): "
                  + "; ".join(problems), flush=True)
        elif (run + 1) % 20 == 0:
            print(f"{run + 1} runs, no problem so far", flush=True)
    print(f"{args.runs} runs: " + ", ".join(f"{n} {k}" for k, n in counts.items())
          + f"; runs without an edit left the old set {sides['old']} times, the new set "
          f"{sides['new']} times ({midway} times a commit was under way, finished by the "
          f"next command); {workers} kills came while a cell worker ran")
    shutil.rmtree(work, ignore_errors=True)
    return 1 if any(counts.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
