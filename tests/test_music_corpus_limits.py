"""The corpus's own limits: each part's pitch range and polyphony and the longest run of empty
bars, measured at preparation, kept by the sampler's grammar on the tokens and by the written
Score; tempo changes merged at preparation and written only on a bar's first beat; pieces of
exactly the bars or seconds asked."""

import numpy as np
import pytest
import symusic

import lstm_core
from band import BAR, band_score
from lstm_core.errors import UsageError
from lstm_core.model import LanguageModel, ModelConfig
from lstm_core.music import bar_rules, bars, constraints, corpus, generation, playable
from lstm_core.music import tokenizer as encodings
from lstm_core.music.constants import BOUNDARY, DRUMS
from lstm_core.preprocessing import Vocabulary
from lstm_core.sampler import Sampler
from lstm_core.sampling_options import SampleOptions

GAP = 2  # empty bars in a row in one corpus piece


def with_gap(score: symusic.Score) -> symusic.Score:
    """`score` with no note starting in bars 1 .. `GAP`."""
    for track in score.tracks:
        track.notes = [n for n in track.notes if not BAR <= n.time < (GAP + 1) * BAR]
    return score


@pytest.fixture(scope="module")
def songs(tmp_path_factory):
    """Two band pieces and one with `GAP` empty bars."""
    path = tmp_path_factory.mktemp("limits")
    (path / "songs").mkdir()
    pieces = [band_score(bars=4, seed=0), band_score(bars=4, seed=1),
              with_gap(band_score(bars=5, seed=2))]
    for n, piece in enumerate(pieces):
        piece.dump_midi(str(path / "songs" / f"{n}.mid"))
    return path


@pytest.fixture(scope="module")
def prepared(songs):
    pieces, metadata = corpus.load_pieces(str(songs / "songs"), cache_dir=str(songs / "cache"))
    return Vocabulary.build(corpus.join_pieces(pieces), kind="remi", metadata=metadata)


def test_preparation_measures_each_part_and_the_longest_empty_run(songs, prepared):
    scores = [symusic.Score(str(p)) for p in sorted((songs / "songs").iterdir())]
    expected = {}
    for program, polyphony in ((0, 3), (24, 1), (33, 1), (DRUMS, 2)):  # as band.py plays them
        pitches = [n.pitch for s in scores for t in s.tracks for n in t.notes
                   if (DRUMS if t.is_drum else t.program) == program]
        expected[str(program)] = {"lowest": min(pitches), "highest": max(pitches),
                                  "polyphony": polyphony}
    assert prepared.metadata["parts"] == expected
    assert prepared.metadata["empty_bars"] == GAP


def test_equal_and_near_equal_successive_tempos_are_merged_when_tokenized():
    score = band_score(bars=4)
    score.tempos = [symusic.Tempo(t * BAR, qpm) for t, qpm in
                    enumerate([120.0, 120.0, 121.0, 150.0])]
    tempos = [t for t in encodings.encode(score, encodings.build("remi"))
              if t.startswith("Tempo_")]
    assert len(tempos) == 2 and tempos[0] != tempos[1]


def onset_runs_and_ranges(tokens, parts):
    """Per note: (its part's notes struck so far at this time in a row, whether its pitch is
    in the part's range)."""
    found, program, struck = [], None, 0
    for token in tokens:
        kind, _, value = token.partition("_")
        if kind in ("Bar", "Position"):
            struck = 0
        elif kind == "Program":
            struck = struck if int(value) == program else 0
            program = int(value)
        elif kind in ("Pitch", "PitchDrum") and program in parts:
            struck += 1
            part = parts[program]
            found.append((struck <= part.polyphony,
                          part.lowest <= int(value) <= part.highest))
    return found


def empty_runs(tokens):
    """The lengths of the runs of bars in which no note starts."""
    runs, since_note = [], 0
    for token in tokens:
        if token.startswith("Bar"):
            runs.append(since_note)
            since_note += 1
        elif token.startswith(("Pitch", "PitchDrum")):
            since_note = 0
    return runs


def tempos_off_the_first_beat(tokens):
    """Tempo tokens written after a position other than the bar's first."""
    count, first_beat = 0, True
    for token in tokens:
        if token.startswith("Bar"):
            first_beat = True
        elif token.startswith("Position_"):
            first_beat &= token == "Position_0"
        count += token.startswith("Tempo_") and not first_beat
    return count


def draw(vocabulary, metadata, seed=0):
    model = LanguageModel(ModelConfig(len(vocabulary), units=16, layers=1, embedding_size=8),
                          seed=seed)
    grammar = constraints.grammar(vocabulary.tokens, metadata)
    ids = Sampler(model, temperature=2.0, chunk_length=100, grammar=grammar).generate(
        np.tile(vocabulary.encode([BOUNDARY]).astype(np.int32), [4, 1]), 600, random_seed=seed)
    return [vocabulary.decode(row) for row in ids]


def test_sampled_tokens_keep_to_the_parts_the_empty_bar_cap_and_tempo_on_bar_lines(prepared):
    parts = playable.of_metadata(prepared.metadata)
    unlimited = {k: v for k, v in prepared.metadata.items() if k not in ("parts", "empty_bars")}
    free = draw(prepared, unlimited)  # an untrained model breaks every rule without them
    notes = [n for tokens in free for n in onset_runs_and_ranges(tokens, parts)]
    assert not all(chord for chord, _ in notes) and not all(within for _, within in notes)
    assert max(r for tokens in free for r in empty_runs(tokens)) > 0

    # A corpus without an empty bar: the cap the untrained model runs into.
    for tokens in draw(prepared, {**prepared.metadata, "empty_bars": 0}):
        notes = onset_runs_and_ranges(tokens, parts)
        assert len(notes) > 20 and all(chord and within for chord, within in notes)
        assert max(empty_runs(tokens)) == 0
        assert tempos_off_the_first_beat(tokens) == 0
        assert constraints.count_errors(tokens, prepared.metadata) == 0


def test_a_tempo_token_only_on_a_bars_first_beat(prepared):
    rules = bar_rules.grammar(prepared.tokens, prepared.metadata)
    tempo = prepared.tokens.index(next(t for t in prepared.tokens if t.startswith("Tempo_")))
    bar_and_meter = ["Bar_None", "TimeSig_4/4"]
    for written, allowed in ((bar_and_meter, True), (bar_and_meter + ["Position_0"], True),
                             (bar_and_meter + ["Position_0", "Position_8"], False),
                             (bar_and_meter + ["Position_8", "Bar_None", "TimeSig_4/4"], True)):
        state = rules.run(prepared.encode(written))
        assert rules.allowed_in(state)[tempo] == allowed, written


def most_at_once(track: symusic.Track) -> int:
    return max(sum(m.time <= n.time < m.time + m.duration for m in track.notes)
               for n in track.notes)


@pytest.fixture(scope="module")
def band(songs):
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(songs)
        lstm_core.train("songs", model_name="band", units=16, batch_size=4, sequence_length=16,
                        max_steps=3, sample_every=0, histogram_frequency=0)
        return lstm_core.load("band")


def test_written_pieces_are_exactly_as_long_as_asked_and_playable(band):
    parts = playable.of_metadata(band.vocabulary.metadata)
    pieces = [s.score for s in band.sample(bars=3, num_samples=3, random_seed=4).samples]
    for score in pieces:
        lines = bars.bar_lines(score, 3)
        assert score.end() == lines[-1] and generation.bars(score) == 3
        read_back = symusic.Score.from_midi(score.dumps_midi())
        assert read_back.end() == lines[-1]  # the MIDI file lasts the 3 bars
        assert all(t.time in lines for t in score.tempos)
        for track in score.tracks:
            part = parts[DRUMS if track.is_drum else track.program]
            assert most_at_once(track) <= part.polyphony
            assert all(part.lowest <= n.pitch <= part.highest for n in track.notes)
    timed = band.sample(seconds=5.0, random_seed=4).samples[0].score
    tick = 60 / (timed.tempos[-1].qpm * timed.ticks_per_quarter)  # seconds: the resolution
    assert generation.seconds(timed) == pytest.approx(5.0, abs=tick / 2)
    assert timed.end() == timed.markers[-1].time


def test_bars_and_seconds_exclude_each_other():
    with pytest.raises(UsageError, match="--bars and --seconds each set the length; give one"):
        SampleOptions(bars=2, seconds=3.0).validate({"bars", "seconds"})
