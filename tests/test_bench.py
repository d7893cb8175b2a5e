"""benchmarks/bench.py's exit status and core count, without running a benchmark."""

import importlib.util
import os
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def bench(monkeypatch):
    """bench.py as a module, its measurements replaced by failures chosen per test."""
    module = load_bench()
    monkeypatch.setattr(module, "sgemm_peak", lambda *args: 100.0)
    monkeypatch.setattr(module, "peer_available",  # torch is not installed: a note
                        lambda name, notes: notes.append(f"{name} is not installed") or False)
    return module


def run_main(bench, monkeypatch, failing: list[str], *flags: str) -> int:
    def train_benchmark(name, shape, rounds, steps, peers, results, failures):
        failures.update({f"train_{name}_{c}": "Traceback" for c in failing if name == "small"})

    monkeypatch.setattr(bench, "train_benchmark", train_benchmark)
    monkeypatch.setattr(sys, "argv", ["bench.py", *flags, "--skip", "train_large,gen,rss"])
    return bench.main()


def test_a_peer_that_ran_and_failed_fails_the_quick_run_only(bench, monkeypatch, capsys):
    assert run_main(bench, monkeypatch, [], "--quick") == 0  # the missing peer is no failure
    assert "note: torch is not installed" in capsys.readouterr().out
    assert run_main(bench, monkeypatch, ["keras"], "--quick") == 1  # the CI smoke test
    assert "FAILED: train_small_keras (a peer)" in capsys.readouterr().out
    assert run_main(bench, monkeypatch, ["keras"]) == 0  # a full run still reports the rest


def test_lstm_core_failing_fails_every_run(bench, monkeypatch):
    assert run_main(bench, monkeypatch, ["lstm-core"]) == 1
    assert run_main(bench, monkeypatch, ["lstm-core"], "--quick") == 1


def test_cores_are_those_this_process_may_use(monkeypatch):
    """Torch gets as many threads as lstm-core's trainer counts cores: the affinity mask (a
    container or taskset may allow fewer cores than the machine has)."""
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert load_bench().CORES == 3
