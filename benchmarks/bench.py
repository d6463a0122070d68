"""Build-time benchmarks, run as a user would (the `deckgen` command in a subprocess).

    python benchmarks/bench.py            # everything (about 3 minutes on 2 cores)
    python benchmarks/bench.py --quick    # fewer repetitions

Prints the median (and min/max) wall time of each scenario over several runs. All scenarios
of one invocation run on the same machine in one go, so their ratios are comparable even when
the machine is noisy. Targets (2 cores): no-op rebuild of the default bank <= 0.5 s, one
question edited <= 1.5 s, 10,000 synthetic questions to .apkg <= 10 s, near-linear growth.
The default-bank scenarios build .apkg and .json; the PDF is timed on its own.
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from synthetic import write as write_synthetic  # noqa: E402

DECKGEN = [sys.executable, "-m", "deckgen"]
PROBE = """
import sys
from pathlib import Path
from deckgen import config
from deckgen.pipeline import build
build(config.override(config.load(Path(sys.argv[1])), out=Path(sys.argv[2])))
print(",".join(sorted({m.split('.')[0] for m in sys.modules} & {"torch", "matplotlib", "sympy",
                                                               "numpy"})) or "none")
"""


def run(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def edited(path: Path, old: str, new: str, reps: int, command: list[str], cwd: Path
           ) -> list[float]:
    """Time `command` after each of `reps` edits of `path` (old -> new.format(i=...))."""
    original = path.read_text()
    times = []
    try:
        for i in range(reps):
            path.write_text(original.replace(old, new.format(i=i), 1))
            times.append(run(command, cwd))
    finally:
        path.write_text(original)
    return times


SUMMARY = re.compile(r"^\d\d:\d\d:\d\d (\d+ cards|build failed)")


def watched_edits(path: Path, old: str, new: str, reps: int, command: list[str], cwd: Path
                  ) -> list[float]:
    """Under `deckgen watch` (`command`): from each edit's save to the rebuild's summary line."""
    original = path.read_text()
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    assert proc.stdout is not None

    def summary() -> str:
        for line in proc.stdout:
            if SUMMARY.match(line):
                return line
        raise RuntimeError("deckgen watch stopped")
    times = []
    try:
        summary()  # the first build (the warm workers import meanwhile)
        time.sleep(3)  # let the workers finish their imports, as they do while one writes
        for i in range(reps):
            started = time.perf_counter()
            path.write_text(original.replace(old, new.format(i=i), 1))
            line = summary()
            times.append(time.perf_counter() - started)
            if "1 question(s) computed" not in line:
                raise RuntimeError(f"unexpected rebuild: {line.strip()}")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        path.write_text(original)
    return times


def report(name: str, times: list[float]) -> float:
    med = statistics.median(times)
    print(f"{name:<48} median {med:6.2f} s  (min {min(times):.2f}, max {max(times):.2f}, "
          f"n={len(times)})", flush=True)
    return med


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    reps = 3 if args.quick else 7
    heavy_reps = 1 if args.quick else 3

    with tempfile.TemporaryDirectory(prefix="deckgen-bench-") as tmp:
        work = Path(tmp)
        bank = work / "source"
        shutil.copytree(ROOT / "source", bank)
        out = work / "build"
        build = DECKGEN + ["build", "--trust", str(bank), "--out", str(out), "--format",
                           "apkg,json", "--quiet"]

        clean = []
        for _ in range(heavy_reps):
            shutil.rmtree(out, ignore_errors=True)
            clean.append(run(build, work))
        report("default bank, clean build (runs every cell)", clean)

        cached = []
        for _ in range(reps):
            (out / ".deckgen-build.json").unlink(missing_ok=True)
            cached.append(run(build, work))
        report("default bank, full rebuild, cells cached", cached)

        noop = [run(build, work) for _ in range(reps)]
        report("default bank, no-op rebuild", noop)

        question = bank / "deep-learning-interview-questions.md"
        report("default bank, one question's text edited",
               edited(question, "Name them.", "Name them ({i}).", reps, build, work))
        # Q57's cells use numpy only; the first torch cell (Q34.3) imports torch in the worker
        report("default bank, one cell edited (Q57, numpy, no torch)",
               edited(bank / "answers" / "50-70.md", "TP, FN = cm[0]", "TP, FN = cm[0]  # {i}",
                      heavy_reps, build, work))
        report("default bank, one cell edited (Q34, imports torch)",
               edited(bank / "answers" / "27-49.md", "import torch", "import torch  # {i}",
                      heavy_reps, build, work))
        watch = DECKGEN + ["watch", "--trust", str(bank), "--out", str(out), "--format",
                           "apkg,json"]
        report("deckgen watch, one torch cell edited (Q34)",
               watched_edits(bank / "answers" / "27-49.md", "import torch",
                             "import torch  # w{i}", reps, watch, work))

        # the PDF alone, cells cached, nothing typeset yet
        pdf_build = DECKGEN + ["build", "--trust", str(bank), "--out", str(out), "--format", "pdf",
                               "--quiet"]
        pdf_times = []
        for _ in range(heavy_reps):
            (out / ".deckgen-build.json").unlink(missing_ok=True)
            shutil.rmtree(out / "cache" / "pdf", ignore_errors=True)
            pdf_times.append(run(pdf_build, work))
        report("default bank, PDF only, nothing typeset yet", pdf_times)

        all_formats = DECKGEN + ["build", "--trust", str(bank), "--out", str(out), "--quiet"]
        run(all_formats, work)
        report("default bank, one question edited, .apkg+.json+PDF",
               edited(question, "Name them.", "Name them [{i}].", reps, all_formats, work))

        run(build, work)
        probe = subprocess.run([sys.executable, "-c", PROBE, str(bank), str(out)], cwd=work,
                               check=True, capture_output=True, text=True).stdout.strip()
        print(f"{'heavy modules imported by a no-op rebuild':<48} {probe}")

        sizes = {}
        for count in (1_000, 10_000):
            syn = work / f"syn{count}"
            write_synthetic(syn, count)
            times = []
            for _ in range(heavy_reps):
                shutil.rmtree(work / f"syn{count}-out", ignore_errors=True)
                (syn / "deckgen.lock").unlink(missing_ok=True)
                target = str(work / f"syn{count}-out")
                times.append(run(DECKGEN + ["build", "--trust", str(syn), "--out", target,
                                            "--format", "apkg", "--quiet"], work))
            sizes[count] = report(f"synthetic bank, {count:,} questions to .apkg", times)
        print(f"{'growth 1,000 -> 10,000 questions':<48} x{sizes[10_000] / sizes[1_000]:.1f}")
        syn = work / "syn1000"
        times = []
        for _ in range(heavy_reps):
            (work / "syn1000-pdf" / ".deckgen-build.json").unlink(missing_ok=True)
            shutil.rmtree(work / "syn1000-pdf", ignore_errors=True)
            times.append(run(DECKGEN + ["build", "--trust", str(syn), "--out",
                                        str(work / "syn1000-pdf"), "--format", "pdf", "--quiet"],
                             work))
        report("synthetic bank, 1,000 questions (1,200 cards) to PDF", times)


if __name__ == "__main__":
    main()
