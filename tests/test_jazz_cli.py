"""Jazz: train on a solo over chords through train.py, improvise over a typed progression or a
file's through sample.py and the Python API, and the bad inputs of the jazz options."""

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


@pytest.fixture(scope="module")
def jazz(jazz_model):
    from lstm_core.trained_model import load

    return load("jazz", logdir=str(jazz_model / "logs"))


@pytest.mark.parametrize("keywords, bars", [
    ({}, 32),  # a chorus: the first 32 of the training solo's 216 bars
    (dict(chords="Dm7 G7 | Cmaj7 | A7", choruses=2), 6),
    (dict(chords="Dm7 G7 | Cmaj7 | A7", bars=5), 5),
])
def test_the_solo_lasts_a_chorus_or_the_bars_asked_for(jazz, keywords, bars):
    samples = jazz.sample(**keywords, random_seed=2)
    assert len(samples.progression) == bars
    solo, chords = samples.samples[0].score.tracks
    quarter = samples.samples[0].score.ticks_per_quarter
    assert chords.end() == 4 * bars * quarter
    assert 2 * bars * quarter < solo.end() <= 4 * bars * quarter


@pytest.mark.parametrize("keywords, fragments", [
    (dict(chords="Dm7 | Hbb9"), ["Hbb9", "maj7 m7 mmaj7 m7b5"]),
    (dict(chords=" | "), ["--chords", "empty"]),
    (dict(chords=""), ["--chords", "empty"]),
    (dict(chords="C | G7", chords_from=str(METHENY)), ["--chords and --chords_from"]),
    (dict(bars=8, choruses=2), ["--bars and --choruses"]),
    (dict(bars=0), ["--bars"]),
    (dict(sample_length=300), ["--sample_length", "--bars or --choruses"]),
])
def test_bad_progressions(jazz, keywords, fragments):
    from lstm_core.errors import UsageError

    with pytest.raises(UsageError) as raised:
        jazz.sample(**keywords)
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_chords_need_a_jazz_model(tmp_path):
    (tmp_path / "words.txt").write_text("do re mi fa so la ti do\n" * 80, encoding="utf-8")
    trained = run("train.py", "--training_file", "words.txt", "--model_name", "words",
                  "--max_steps", "2", "--batch_size", "4", "--units_number", "16", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    for flag, value in (("--chords", "C | G7"), ("--choruses", "2")):
        result = run("sample.py", "--model_name", "words", flag, value, "--output_file", "x.txt",
                     cwd=tmp_path)
        assert_usage_error(result, flag, "--encoding jazz")
