"""Jazz through the apps: train on a solo over chords, improvise over a typed progression, and
the bad inputs of the jazz flags."""

import re
from pathlib import Path

import pytest

from test_cli import assert_usage_error, run

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
METHENY = SHARED / "midi" / "jazz" / "original_metheny.mid"


@pytest.fixture(scope="module")
def jazz_model(tmp_path_factory):
    if not METHENY.exists():
        pytest.skip(f"{METHENY} is absent (../shared/data is not checked out beside the project)")
    path = tmp_path_factory.mktemp("jazz")
    result = run("train.py", "--training_file", str(METHENY), "--encoding", "jazz",
                 "--vocabulary_file", "jazz.vocab", "--model_name", "jazz", "--preset", "djmodel",
                 "--max_steps", "30", cwd=path)
    assert result.returncode == 0, result.stdout + result.stderr
    return path


def test_djmodel_preset_trains_the_original_setup(jazz_model):
    import json

    config = json.loads((jazz_model / "logs" / "jazz" / "config.json").read_text())
    record = json.loads((jazz_model / "logs" / "jazz" / "training.json").read_text())
    assert (config["layers"], config["units"], config["token_kind"]) == (1, 64, "jazz")
    assert record["sequence_length"] == 30 and record["greedy"] and record["shuffle"]


def test_solo_over_a_typed_progression_has_two_parts_filling_every_bar(jazz_model):
    from music21 import converter

    result = run("sample.py", "--model_name", "jazz", "--chords", "Dm7 G7 | Cmaj7 | A7 | Dm7 G7",
                 "--output_file", "solo.mid", "--random_seed", "1", "--temperature", "0.9",
                 cwd=jazz_model)
    assert result.returncode == 0, result.stderr
    score = converter.parse(str(jazz_model / "solo.mid"))
    assert len(score.parts) == 2
    solo, chords = score.parts
    assert solo.highestTime == pytest.approx(16.0) and chords.highestTime == pytest.approx(16.0)
    assert len(solo.recurse().notes) > 4


def test_chords_from_a_midi_file_audio_and_piano_roll(jazz_model):
    result = run("sample.py", "--model_name", "jazz", "--chords_from", str(METHENY),
                 "--output_file", "metheny_solo.mid", "--audio", "solo.wav", "--piano_roll",
                 "solo.png", "--random_seed", "4", cwd=jazz_model)
    assert result.returncode == 0, result.stderr
    assert "a solo over" in result.stdout and "Fmaj9" in result.stdout
    # A long progression is named by its opening bars, not printed whole on one line.
    line = next(line for line in result.stdout.splitlines() if "a solo over" in line)
    assert line.count("|") == 8 and " | ..." in line
    assert re.search(r"\(--random_seed 4, log-likelihood -[0-9.]+, -[0-9.]+ per token\)$", line)
    assert (jazz_model / "solo.wav").stat().st_size > 1000
    assert (jazz_model / "solo.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("flags, bars", [
    ([], 32),  # a chorus: the first 32 of the training solo's 216 bars
    (["--chords", "Dm7 G7 | Cmaj7 | A7", "--choruses", "2"], 6),
    (["--chords", "Dm7 G7 | Cmaj7 | A7", "--bars", "5"], 5),
])
def test_the_solo_lasts_a_chorus_or_the_bars_asked_for(jazz_model, flags, bars):
    from music21 import converter

    name = f"form-{len(flags)}-{bars}.mid"  # each case its own file: outputs are never replaced
    result = run("sample.py", "--model_name", "jazz", *flags, "--output_file", name,
                 "--random_seed", "2", cwd=jazz_model)
    assert result.returncode == 0, result.stderr
    assert f"a solo over {bars} bars" in result.stdout
    solo, chords = converter.parse(str(jazz_model / name)).parts
    assert chords.highestTime == pytest.approx(4.0 * bars)  # a MIDI file keeps no final rest
    assert 2.0 * bars < solo.highestTime <= 4.0 * bars


@pytest.mark.parametrize("flags, fragments", [
    (["--chords", "Dm7 | Hbb9"], ["Hbb9", "maj7 m7 mmaj7 m7b5"]),
    (["--chords", " | "], ["--chords", "empty"]),
    (["--chords", ""], ["--chords", "empty"]),
    (["--chords", "C | G7", "--chords_from", str(METHENY)], ["--chords and --chords_from"]),
    (["--bars", "8", "--choruses", "2"], ["--bars and --choruses"]),
    (["--bars", "0"], ["--bars"]),
    (["--sample_length", "300"], ["--sample_length", "--bars or --choruses"]),
])
def test_bad_progressions(jazz_model, flags, fragments):
    result = run("sample.py", "--model_name", "jazz", *flags, "--output_file", "x.mid",
                 cwd=jazz_model)
    assert_usage_error(result, *fragments)
    assert not (jazz_model / "x.mid").exists()


def test_chords_need_a_jazz_model(tmp_path):
    (tmp_path / "words.txt").write_text("do re mi fa so la ti do\n" * 80, encoding="utf-8")
    trained = run("train.py", "--training_file", "words.txt", "--model_name", "words",
                  "--max_steps", "2", "--batch_size", "4", "--units_number", "16", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    for flag, value in (("--chords", "C | G7"), ("--choruses", "2")):
        result = run("sample.py", "--model_name", "words", flag, value, "--output_file", "x.txt",
                     cwd=tmp_path)
        assert_usage_error(result, flag, "--encoding jazz")
