"""The sampling side of the Python API in the pytest process: `load` a model, then `generate`,
`generate_many`, `compose`, `improvise`; the wrong method or an unknown keyword is a
`UsageError`."""

import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import symusic

from band import band_score
from lstm_core.errors import UsageError
from lstm_core.kinds import Family
from lstm_core.music import generation
from lstm_core.sampling_options import SampleOptions
from lstm_core.trained_model import load


@pytest.fixture(scope="module")
def words(text_model):
    return load("words", logdir=str(text_model / "logs"))


@pytest.fixture(scope="module")
def band(band_model):
    return load(band_model)  # a model folder's path


@pytest.fixture(scope="module")
def jazz(jazz_model):
    return load("jazz", logdir=str(jazz_model / "logs"))


def test_generate_continues_the_seed_by_the_length_asked_and_repeats_with_its_seed(words):
    text = words.generate(seed="the ", length=40, temperature=0.8, random_seed=5)
    assert isinstance(text, str) and len(text) == 44 and text.startswith("the ")
    assert words.generate("the ", length=40, temperature=0.8, random_seed=5) == text
    assert words.generate("the ", length=40, temperature=0.8, random_seed=6) != text


def test_a_second_call_with_the_same_settings_traces_nothing_new(text_model):
    """Tracing and compiling a sampler takes seconds on a CPU: a model keeps its samplers."""
    fresh = load("words", logdir=str(text_model / "logs"))

    def tracings():
        return sum(sampler.runner.slice_chunk.experimental_get_tracing_count()
                   + sampler.runner.prime.experimental_get_tracing_count()
                   for sampler in fresh._samplers.values())

    first = fresh.generate("the ", length=30, temperature=0.8, random_seed=1)
    traced = tracings()
    assert traced >= 2
    assert fresh.generate("the ", length=30, temperature=0.8, random_seed=2) != first
    assert fresh.generate("the ", length=30, temperature=0.8, random_seed=1) == first
    assert tracings() == traced and len(fresh._samplers) == 1
    fresh.generate("the ", length=30, temperature=0.5, random_seed=1)  # another setting
    assert len(fresh._samplers) == 2 and tracings() > traced


def test_generate_many_gives_n_different_texts(words):
    texts = words.generate_many(4, length=30, top_p=0.9, random_seed=2)
    assert len(texts) == 4 and len(set(texts)) == 4
    # Without a seed, a sample starts from the training corpus's first line.
    assert words.default_seed() == "the cat sat on the mat, the dog ran far away."
    assert all(text.startswith(words.default_seed()) and len(text) == 45 + 30 for text in texts)


def test_sample_returns_what_sample_py_prints(words):
    seen, lines = [], []
    samples = words.sample(seed="thé ", sample_length=20, num_samples=2, log_frequency=10,
                           random_seed=3, progress=lambda done, total: seen.append((done, total)),
                           report=lines.append)
    assert seen == [(10, 20), (20, 20)]
    assert lines == ["warning: the vocabulary lacks 'é' of --seed; replaced by spaces"]
    assert samples.random_seed == 3 and samples.interrupted_after is None
    first = samples.samples[0]
    assert first.text == "th  " + words.vocabulary.decode(first.ids) and first.tokens == 20
    assert np.isfinite(first.log_likelihood) and first.log_likelihood < 0
    assert first.text == words.generate("th  ", length=20, random_seed=3)


def test_inspect_writes_the_page_and_returns_the_ranked_cells(words, tmp_path):
    found = words.inspect("the cat sat on the mat", str(tmp_path / "cells.html"), top=3)
    assert len(found.ranked) == 3 and found.tokens == list("the cat sat on the mat")
    assert (tmp_path / "cells.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    with pytest.raises(UsageError, match="cells.html"):
        words.inspect("the cat", str(tmp_path / "cells.html"))


@pytest.mark.parametrize("call, fragments", [
    (lambda m: m.compose(bars=4), ["compose writes music", "call generate"]),
    (lambda m: m.improvise("Dm7 G7"), ["improvise writes jazz solos", "call generate"]),
    (lambda m: m.generate(temprature=0.5), ["temprature: not an option"]),
    (lambda m: m.generate(key="D minor"), ["--key needs a music model"]),
    (lambda m: m.generate(primer_bars=2), ["--primer_bars 2 takes the first bars of --primer_midi"]),
    (lambda m: m.generate(output_file="x.txt"), ["output_file", "not of generate"]),
    (lambda m: m.generate(temperature=0), ["temperature is 0"]),
    (lambda m: m.generate(beam_size=2, top_p=0.5), ["--top_p does not combine with beam"]),
])
def test_bad_calls_are_usage_errors_naming_what_fits(words, call, fragments):
    with pytest.raises(UsageError) as raised:
        call(words)
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_compose_returns_a_score_of_the_bars_asked(band, tmp_path):
    score = band.compose(bars=4, instruments=["piano", "bass"], key="D minor", tempo=96,
                         random_seed=1)
    assert isinstance(score, symusic.Score) and generation.bars(score) == 4
    assert [tempo.qpm for tempo in score.tempos] == [96]
    assert {track.program for track in score.tracks} <= {0, 33}
    pitches = {note.pitch % 12 for track in score.tracks for note in track.notes}
    assert pitches <= {2, 4, 5, 7, 9, 10, 0}
    assert band.compose(bars=4, instruments="piano,bass", key="D minor", tempo=96,
                        random_seed=1).dumps_midi() == score.dumps_midi()
    with pytest.raises(UsageError, match="generate writes text; model .* writes music: call "
                                         "compose"):
        band.generate(length=10)
    with pytest.raises(UsageError, match="--chords needs a model trained with --encoding jazz"):
        band.compose(chords="Dm7")


def test_a_primer_file_gives_its_first_bars_and_the_bars_asked_follow(band, tmp_path):
    from collections import Counter

    from lstm_core.sampling import describe
    from lstm_core.kinds import Family

    long = band_score(bars=20, seed=0)  # in the key of the training pieces: no pitch unknown
    long.dump_midi(str(tmp_path / "long.mid"))
    samples = band.sample(primer_midi=str(tmp_path / "long.mid"), primer_bars=4, bars=2,
                          random_seed=1)
    score = samples.samples[0].score
    assert samples.primer_bars == 4 and generation.bars(score) == 6

    def notes(piece, before):  # (program, drums, onset in quarters, pitch) of each note
        return Counter((t.program, t.is_drum, n.time / piece.ticks_per_quarter, n.pitch)
                       for t in piece.tracks for n in t.notes
                       if n.time < before * piece.ticks_per_quarter)

    # Every note of the file's 4 bars, and up to its last onset nothing else.
    first_bars = notes(long, 16)
    last_onset = max(onset for _, _, onset, _ in first_bars)
    assert notes(score, 16) >= first_bars
    assert notes(score, last_onset) == notes(long, last_onset)
    assert describe(samples.samples[0], samples, Family.MUSIC, "x.mid").startswith(
        f"wrote x.mid: 4 track(s) (Acoustic Grand Piano, Acoustic Guitar (nylon), Electric Bass "
        f"(finger), Drums), 4 bars of primer + 2 new bars, {generation.seconds(score):.0f} s, ")
    band_score(bars=3, seed=0).dump_midi(str(tmp_path / "short.mid"))
    whole = band.sample(primer_midi=str(tmp_path / "short.mid"), primer_bars=50, bars=1,
                        random_seed=1)
    assert whole.primer_bars == 3 and generation.bars(whole.samples[0].score) == 4


@pytest.mark.parametrize("keywords, message", [
    (dict(primer_bars=2), "--primer_bars 2 takes the first bars of --primer_midi; give "
                          "--primer_midi FILE too"),
    (dict(primer_notes="C4 E4", primer_bars=2), "--primer_bars 2 takes the first bars of "
                                                "--primer_midi"),
    (dict(primer_midi="long.mid", primer_bars=-1), "--primer_bars is -1; give a count of bars"),
    (dict(primer_midi="long.mid", primer_bars=10**9), "--primer_bars is 1,000,000,000; give a "
                                                      "count of bars from 1 to"),
])
def test_primer_bars_needs_primer_midi_and_a_count_of_bars(band, keywords, message):
    with pytest.raises(UsageError) as raised:
        band.compose(bars=1, **keywords)
    assert message in str(raised.value)


def test_improvise_plays_a_solo_and_its_chords(jazz):
    # Drawn, not the preset's greedy choice: 3 steps of training make the likeliest token a rest.
    solo = jazz.improvise("Dm7 G7 | Cmaj7 | A7", choruses=2, random_seed=1, greedy=False)
    assert [track.name for track in solo.tracks] == ["Solo", "Chords"]
    assert generation.bars(solo) == 6 and solo.tracks[0].notes
    with pytest.raises(UsageError, match="compose writes music; model jazz writes jazz solos: "
                                         "call improvise"):
        jazz.compose(bars=2)


# ---- docs/python.md ------------------------------------------------------------------------
PAGE = (Path(__file__).resolve().parents[1] / "docs" / "python.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```python\n(.*?)^```", PAGE, flags=re.S | re.M)


@pytest.mark.parametrize("block", BLOCKS, ids=["text", "music", "jazz"])
def test_the_python_page_runs(block, request, tmp_path, monkeypatch):
    """Each code block of docs/python.md, on the tiny models under the names it uses."""
    if "lstm_core.train(" in block:  # trained here, on a short text, as a tiny model
        (tmp_path / "lyrics.txt").write_text("Yeah, oho, sing along with me\n" * 80)
        assert "max_steps=2000" in block  # else the page's model would train here at full size
        block = block.replace("max_steps=2000", "max_steps=3, units=16, layers=1, batch_size=4, "
                              "sequence_length=20, histogram_frequency=0, sample_every=0")
    models = {"songs": "words", "band": "band", "jazz": "jazz"}
    for name, fixture in models.items():
        if f'load("{name}")' in block and "lstm_core.train(" not in block:
            model = request.getfixturevalue(fixture)
            shutil.copytree(model.folder.root, tmp_path / "logs" / name)
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the seed's characters the tiny model lacks
        exec(compile(block, "docs/python.md", "exec"), {})
    assert all((tmp_path / name).exists() for name in re.findall(r'"(\w+\.mid)"', block))


def test_a_sample_without_an_output_file_goes_to_standard_output_or_a_file_of_its_own(
        tmp_path, monkeypatch):
    from lstm_core.files import STDOUT

    monkeypatch.chdir(tmp_path)
    options = SampleOptions(model_name="band", random_seed=3)  # the seed is the argument's
    assert SampleOptions(model_name="words").default_output(Family.TEXT, 7) == STDOUT
    assert options.default_output(Family.MUSIC, 7) == "band-7.mid"
    (tmp_path / "band-7.mid").write_bytes(b"kept")  # never overwritten: the next free name
    assert options.default_output(Family.JAZZ, 7) == "band-7.2.mid"
    several = SampleOptions(model_name="./models/words", num_samples=2)
    assert several.default_output(Family.TEXT, 7) == "words-7.txt"  # words-7-1.txt, -2.txt
    (tmp_path / "words-7-2.txt").write_text("kept")
    assert several.default_output(Family.TEXT, 7) == "words-7.2.txt"
    assert SampleOptions(random_seed=3).drawn_seed() == 3
