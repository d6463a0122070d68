"""Warm cell workers (``deckgen watch``): kept between builds with the heavy imports done,
and giving exactly the results of a cold build."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from conftest import build, cards_json, write_bank
from deckgen import config
from deckgen.execute import runner
from test_execute import ANSWERS, QUESTIONS

pytestmark = pytest.mark.slow


def _pids(pool: runner.WarmWorkers) -> list[int]:
    return [w.proc.pid for w in pool.workers if w.proc is not None]


def test_warm_workers_give_the_cold_results_and_stay_between_builds(tmp_path: Path):
    bank = write_bank(tmp_path / "bank", QUESTIONS, ANSWERS)
    with (bank / "deckgen.toml").open("a") as f:
        f.write('formats = ["json"]\n')
    build(bank, tmp_path / "cold")
    cold = cards_json(tmp_path / "cold")
    cfg = config.load(bank)
    with runner.warm_workers(cfg) as pool:
        first = build(bank, tmp_path / "warm", rerun=True)
        assert first.executed == 8
        pids = _pids(pool)
        assert len(pids) == cfg.jobs and all(w.alive() for w in pool.workers)
        assert cards_json(tmp_path / "warm") == cold  # the same results, byte for byte
        again = build(bank, tmp_path / "warm", rerun=True)  # the same workers, warm
        assert again.executed == 8 and _pids(pool) == pids
        assert cards_json(tmp_path / "warm") == cold

        os.kill(pids[0], signal.SIGKILL)  # a worker that died is replaced
        os.waitpid(pids[0], 0)
        third = build(bank, tmp_path / "warm", rerun=True)
        assert third.executed == 8 and _pids(pool)[0] != pids[0]
        assert cards_json(tmp_path / "warm") == cold
        assert all(w.alive() for w in pool.workers)
    assert not any(w.alive() for w in pool.workers)  # gone with the watch
    for pid in pids[1:]:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_cold_build_keeps_no_worker(tmp_path: Path):
    bank = write_bank(tmp_path / "bank", "## S\n\n1. What?\n",
                      "## 1\n```{python}\nprint(1)\n```\n")
    made: list[runner.Worker] = []
    real = runner.Worker.__init__

    def init(self, *args, **kwargs):
        real(self, *args, **kwargs)
        made.append(self)
    runner.Worker.__init__ = init  # type: ignore[method-assign]
    try:
        build(bank, tmp_path / "out")
    finally:
        runner.Worker.__init__ = real  # type: ignore[method-assign]
    assert made and not any(w.alive() for w in made)
