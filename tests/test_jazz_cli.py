"""Jazz: train on a solo over chords through train.py, improvise over a typed progression or a
file's through sample.py (both in the pytest process, `apps`) and the Python API, and the bad
inputs of the jazz options. The jazz model is conftest's `jazz_model`."""

import re

import pytest

from apps import sample_py
from conftest import METHENY

def test_djmodel_preset_trains_the_original_setup(jazz_model):
    import json

    config = json.loads((jazz_model / "logs" / "jazz" / "config.json").read_text())
    record = json.loads((jazz_model / "logs" / "jazz" / "training.json").read_text())
    assert (config["layers"], config["units"], config["token_kind"]) == (1, 64, "jazz")
    assert record["sequence_length"] == 30 and record["greedy"] and record["shuffle"]


def test_solo_over_a_typed_progression_has_two_parts_filling_every_bar(jazz_model):
    from music21 import converter

    sample_py(jazz_model, model_name="jazz", chords="Dm7 G7 | Cmaj7 | A7 | Dm7 G7",
              output_file="solo.mid", random_seed=1, temperature=0.9)
    score = converter.parse(str(jazz_model / "solo.mid"))
    assert len(score.parts) == 2
    solo, chords = score.parts
    assert solo.highestTime == pytest.approx(16.0) and chords.highestTime == pytest.approx(16.0)
    assert len(solo.recurse().notes) > 4


def test_chords_from_a_midi_file_audio_and_piano_roll(jazz_model):
    result = sample_py(jazz_model, model_name="jazz", chords_from=str(METHENY),
                       output_file="metheny_solo.mid", audio="solo.wav", piano_roll="solo.png",
                       random_seed=4)
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
    (dict(bars=0), ["bars is 0"]),
    (dict(sample_length=300), ["--sample_length", "--bars or --choruses"]),
])
def test_bad_progressions(jazz, keywords, fragments):
    from lstm_core.errors import UsageError

    with pytest.raises(UsageError) as raised:
        jazz.sample(**keywords)
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_chords_need_a_jazz_model(text_model):
    from lstm_core.errors import UsageError

    for flag, value in (("chords", "C | G7"), ("choruses", 2)):
        with pytest.raises(UsageError, match=f"--{flag}.*--encoding jazz"):
            sample_py(text_model, model_name="words", **{flag: value}, output_file="x.txt")
    assert not (text_model / "x.txt").exists()
