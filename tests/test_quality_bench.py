"""benchmarks/quality.py's report, curve and exit status, its trainers replaced by the results
chosen per test. The trainers themselves run in CI's smoke run (`.ci/run`: ``quality.py
--quick``), each in a process of its own: each budget is that process's CPU clock."""

import importlib.util
import json
from pathlib import Path

import pytest

QUALITY = Path(__file__).resolve().parents[1] / "benchmarks" / "quality.py"
LSTM_CORE = ["lstm-core default", "lstm-core --cpu_seconds"]
TORCH = ["torch char-rnn", "torch --cpu_seconds"]


def result(*curve):
    """A trainer's result: its validations, (CPU seconds, bits per character) each."""
    return {"curve": [list(point) for point in curve],
            "best": min(bits for _, bits in curve) if curve else None}


@pytest.fixture
def quality(monkeypatch):
    """quality.py as a module whose trainers give `quality.given[contender]`: a result, or None
    for a trainer that failed; it records the contenders it was asked to run."""
    spec = importlib.util.spec_from_file_location("quality", QUALITY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.given, module.asked = {}, []

    def run_all(contenders, args, out):
        module.asked.extend(contenders)
        return {name: module.given.get(name, result((2.0, 3.1), (19.0, 2.2)))
                for name in contenders}

    monkeypatch.setattr(module, "run_all", run_all)
    return module


def run(quality, capsys, tmp_path):
    status = quality.main(["--quick", "--out", str(tmp_path / "out")])
    lines = capsys.readouterr().out.splitlines()
    return status, lines, json.loads(lines[-1])


def test_the_quick_run_reports_every_trainer_and_draws_the_curve(quality, capsys, tmp_path):
    status, _, report = run(quality, capsys, tmp_path)
    assert status == 0 and report["cpu_seconds"] == 20.0 and report["failures"] == []
    assert report["text"] == "verse.txt"  # an 8 KB verse: 3 steps an epoch
    assert (tmp_path / "out" / "verse.txt").stat().st_size > 8000
    if importlib.util.find_spec("torch") is None:
        assert quality.asked == LSTM_CORE
        assert any("torch is not installed" in note for note in report["notes"])
    else:
        assert quality.asked == LSTM_CORE + TORCH
    assert (tmp_path / "out" / "quality.png").stat().st_size > 0
    assert (tmp_path / "out" / "train.npy").exists()  # the ids the PyTorch trainers read


def test_a_trainer_that_fails_never_validates_or_overruns_fails_the_run(quality, capsys,
                                                                        tmp_path):
    quality.given = {"lstm-core default": None, "lstm-core --cpu_seconds": result()}
    status, lines, report = run(quality, capsys, tmp_path)
    assert status == 1
    assert [line for line in lines if line.startswith("failed: ")] == [
        "failed: lstm-core default: the trainer failed (its output is above)",
        "failed: lstm-core --cpu_seconds: no validation within 20 CPU seconds"]
    quality.given = {"lstm-core default": result((3.0, 2.5), (31.0, 2.1)),
                     "lstm-core --cpu_seconds": result((3.0, float("nan")))}
    status, _, report = run(quality, capsys, tmp_path)
    assert status == 1 and report["failures"] == [
        "lstm-core default: validated at [3.0, 31.0] CPU seconds, out of order or past 1.5 "
        "times its budget of 20",
        "lstm-core --cpu_seconds: validation bits [nan]"]


def test_a_missing_text_is_one_line_and_exit_status_2(quality, capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(quality, "TEXT", str(tmp_path / "tinyshakespeare.txt"))
    assert quality.main(["--out", str(tmp_path / "out")]) == 2  # the default text
    assert quality.main(["--text", str(tmp_path / "none.txt")]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert "tinyshakespeare.txt is missing" in errors[0] and "--text FILE" in errors[0]
    assert errors[1].startswith("--text ") and "no such file" in errors[1]
    assert not (tmp_path / "out").exists() and quality.asked == []
