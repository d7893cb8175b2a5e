"""benchmarks/quality.py --quick: every trainer runs under its budget of CPU seconds and reports
its validation bits per character, the curve is drawn, and PyTorch is skipped with a note when
it is not installed. The trainers run in processes of their own: each budget is that process's
CPU clock, and PyTorch cannot share a process with TensorFlow."""

import importlib.util
import json
from pathlib import Path

QUALITY = Path(__file__).resolve().parents[1] / "benchmarks" / "quality.py"
VERSE = "Yeah, oho, the night is young and the song goes on,\nsing it loud until the dawn.\n"


def load_quality():
    spec = importlib.util.spec_from_file_location("quality", QUALITY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_quick_run_reports_every_trainer_and_draws_the_curve(tmp_path, capsys):
    text = tmp_path / "lyrics.txt"
    text.write_text(VERSE * 100, encoding="utf-8")  # 8 KB: 3 steps an epoch, then a validation
    out = tmp_path / "out"
    assert load_quality().main(["--quick", "--text", str(text), "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    report = json.loads(lines[-1])
    assert report["cpu_seconds"] == 15.0
    expected = ["lstm-core default", "lstm-core --cpu_seconds"]
    if importlib.util.find_spec("torch") is None:
        assert any("torch is not installed" in note for note in report["notes"])
    else:
        expected += ["torch char-rnn", "torch --cpu_seconds"]
    assert list(report["results"]) == expected
    for contender, result in report["results"].items():
        assert 0 < result["best"] < 8, contender  # bits per character of a 19-letter text
        seconds = [point[0] for point in result["curve"]]
        assert seconds == sorted(seconds) and seconds[-1] <= 1.5 * 15
    assert (out / "quality.png").stat().st_size > 0
