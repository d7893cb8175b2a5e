"""Controls at generation: instruments, key, tempo and MidiTok's token grammar, applied by the
real sampler to a real (small, untrained: it writes anything it may) model; pitch and key names;
a piece's length in bars and seconds; primers."""

import numpy as np
import pytest
import symusic

from band import band_score
from lstm_core.errors import UsageError
from lstm_core.grammar import Grammar
from lstm_core.model import LanguageModel, ModelConfig
from lstm_core.music import constraints, generation, pitches
from lstm_core.music import tokenizer as encodings
from lstm_core.music.constants import BOUNDARY, DRUMS
from lstm_core.preprocessing import Vocabulary
from lstm_core.sampler import Sampler

D_MINOR = {2, 4, 5, 7, 9, 10, 0}


@pytest.fixture(scope="module", params=["remi", "tsd", "midilike"])
def band_vocabulary(request):
    tokenizer = encodings.build(request.param)
    corpus = [BOUNDARY]
    for seed in range(6):
        corpus += encodings.encode(band_score(bars=4, seed=seed), tokenizer) + [BOUNDARY]
    return Vocabulary.build(corpus, kind=request.param, metadata=encodings.metadata_of(tokenizer))


def sample(vocabulary, chosen, length=400, seed=0, primer=(BOUNDARY,)):
    model = LanguageModel(ModelConfig(len(vocabulary), units=16, layers=1, embedding_size=8),
                          seed=seed)
    sampler = Sampler(model, temperature=2.0, chunk_length=100,
                      grammar=chosen.grammar(vocabulary.tokens, vocabulary.metadata))
    ids = sampler.generate(np.tile(vocabulary.encode(list(primer)).astype(np.int32), [4, 1]),
                           length, random_seed=seed)
    return [vocabulary.decode(row) for row in ids]


def type_errors(tokens, tokenizer):
    graph = tokenizer.tokens_types_graph
    kinds = [constraints.token_type(t) for t in tokens]
    return sum(k not in graph[p] for p, k in zip(kinds, kinds[1:]))


def test_masked_samples_keep_to_instruments_key_and_grammar(band_vocabulary):
    tokenizer = encodings.from_metadata(band_vocabulary.metadata)
    chosen = generation.Controls(programs=frozenset({0, DRUMS}), pitch_classes=frozenset(D_MINOR),
                                 tempo=132.0)
    for tokens in sample(band_vocabulary, chosen):
        programs = {int(t.split("_")[1]) for t in tokens if t.startswith("Program_")}
        assert programs <= {0, DRUMS} and programs  # the corpus's guitar and bass never come
        assert all(int(t.split("_")[1]) % 12 in D_MINOR for t in tokens
                   if t.startswith(("Pitch_", "NoteOn_")))
        assert {t for t in tokens if t.startswith("Tempo_")} <= {
            constraints.nearest_tempo(band_vocabulary.tokens, 132.0)}
        assert type_errors(tokens, tokenizer) == 0 and BOUNDARY not in tokens
        if tokenizer.__class__.__name__ != "MIDILike":  # it also pairs NoteOffs (see below)
            assert constraints.count_errors(tokens, band_vocabulary.metadata) == 0
        score = encodings.decode(tokens, band_vocabulary.metadata)
        assert {(t.program, t.is_drum) for t in score.tracks} <= {(0, False), (0, True)}
        assert all(n.pitch % 12 in D_MINOR for t in score.tracks if not t.is_drum
                   for n in t.notes)


def test_without_masks_the_untrained_model_leaves_the_grammar(band_vocabulary):
    """The test above could not fail if a random model kept to the grammar by itself."""
    tokenizer = encodings.from_metadata(band_vocabulary.metadata)
    model = LanguageModel(ModelConfig(len(band_vocabulary), units=16, layers=1,
                                      embedding_size=8))
    ids = Sampler(model, temperature=2.0, chunk_length=100).generate(
        np.zeros([1, 1], np.int32), 400, random_seed=0)
    tokens = band_vocabulary.decode(ids[0])
    assert type_errors([t for t in tokens if t != BOUNDARY], tokenizer) > 20
    assert {t for t in tokens if t.startswith("Program_")} - {"Program_0", "Program_-1"}


def test_drums_are_never_key_masked_and_only_drum_notes_follow_the_drum_program():
    tokenizer = encodings.build("remi")
    tokens = list(tokenizer.vocab)
    allowed = constraints.allowed_next(tokens, encodings.metadata_of(tokenizer),
                                       pitch_classes={0})
    after_drums = {tokens[i] for i in np.flatnonzero(allowed[tokens.index("Program_-1")])}
    after_piano = {tokens[i] for i in np.flatnonzero(allowed[tokens.index("Program_0")])}
    assert after_drums == {t for t in tokens if t.startswith("PitchDrum_")}
    assert after_piano == {f"Pitch_{p}" for p in range(0, 128, 12)}


def test_dead_ends_are_forbidden():
    """A program none of whose notes may follow it is never written."""
    tokenizer = encodings.build("remi")
    tokens = [t for t in tokenizer.vocab if not t.startswith("Pitch_") or t == "Pitch_60"]
    tokens = [t for t in tokens if not t.startswith("PitchDrum_")]  # drums: no note at all
    allowed = constraints.allowed_next(tokens, encodings.metadata_of(tokenizer),
                                       pitch_classes={2})
    writable = {tokens[i] for i in np.flatnonzero(allowed.any(axis=0))}
    assert not any(t.startswith(("Program_", "Pitch_")) for t in writable)
    assert allowed.any(axis=1)[[tokens.index(t) for t in writable]].all()


def test_positions_move_forward_within_a_bar_as_midi_tok_counts_them(band_vocabulary):
    """The previous token alone lets an untrained model step back within a bar; the grammar's
    position rule does not, and MidiTok's own count agrees with it on every sampled token."""
    tokens, metadata = band_vocabulary.tokens, band_vocabulary.metadata
    by_position = constraints.positions(tokens)
    if by_position is None:  # TSD and MIDI-Like move by time shifts: nothing to go back on
        assert "Position_0" not in tokens
        return
    model = LanguageModel(ModelConfig(len(tokens), units=16, layers=1, embedding_size=8))
    previous_only = Grammar.previous_token(constraints.allowed_next(tokens, metadata))
    primer = np.tile(band_vocabulary.encode([BOUNDARY]), [4, 1]).astype(np.int32)
    ids = Sampler(model, temperature=2.0, chunk_length=100, grammar=previous_only).generate(
        primer, 400, random_seed=0)
    written = [band_vocabulary.decode(row) for row in ids]
    stepped_back = 0
    for row in ids:
        state = by_position.start
        for token in row:
            stepped_back += not by_position.allowed[state, token]
            state = by_position.next_state[state, token]
    assert stepped_back > 5
    assert stepped_back == sum(constraints.count_errors(t, metadata) for t in written)


def test_count_errors_is_midi_toks_count():
    tokenizer = encodings.build("remi")
    metadata = encodings.metadata_of(tokenizer)
    tokens = encodings.encode(band_score(bars=2), tokenizer)
    assert constraints.count_errors(tokens, metadata) == 0
    at = next(i for i, t in enumerate(tokens) if t.startswith("Velocity_")) + 1
    broken = tokens[:at] + ["Velocity_63"] + tokens[at:]  # Velocity after Velocity
    assert constraints.count_errors(broken, metadata) == 1
    assert constraints.count_errors([BOUNDARY] + tokens, metadata) == 0


def test_notes_encoding_masks_notes_and_chords_out_of_key():
    metadata = {"encoding": "notes"}
    tokens = ["C4", "D4", "C#4", "2.5.9", "0.3.7", BOUNDARY]  # C minor has an Eb
    allowed = constraints.allowed_next(tokens, metadata, pitch_classes=D_MINOR)
    assert [tokens[i] for i in np.flatnonzero(allowed[0])] == ["C4", "D4", "2.5.9"]


def test_pitch_key_and_scale_names():
    assert [pitches.midi_pitch(n, "--primer_notes") for n in ("C4", "F#3", "Bb5", "E-2", "60")] \
        == [60, 54, 82, 39, 60]
    assert pitches.key_pitch_classes("D minor") == D_MINOR
    assert pitches.key_pitch_classes("Bb") == {10, 0, 2, 3, 5, 7, 9}
    assert pitches.key_pitch_classes("a minor pentatonic") == {9, 0, 2, 4, 7}
    assert pitches.scale_pitch_classes("C D Eb G A") == {0, 2, 3, 7, 9}
    for bad, flag in (("H minor", "--key"), ("D mixolidian", "--key"), ("C4 X", "--scale")):
        with pytest.raises(UsageError, match=flag):
            (pitches.key_pitch_classes if flag == "--key" else pitches.scale_pitch_classes)(bad)
    for bad in ("C", "C11", "200"):
        with pytest.raises(UsageError, match="--primer_notes"):
            pitches.midi_pitch(bad, "--primer_notes")


def test_controls_reject_unknown_and_absent_instruments(band_vocabulary):
    tokens, metadata = band_vocabulary.tokens, band_vocabulary.metadata
    chosen = generation.controls(tokens, metadata, "piano, Electric Bass (finger),drums",
                                 "D minor", None, None)
    assert {0, 33, DRUMS} <= chosen.programs and chosen.pitch_classes == D_MINOR
    with pytest.raises(UsageError, match="--instruments: 'kazoo' is no General MIDI"):
        generation.controls(tokens, metadata, "piano,kazoo", None, None, None)
    with pytest.raises(UsageError, match="never wrote 'brass'.*Acoustic Grand Piano"):
        generation.controls(tokens, metadata, "piano,brass", None, None, None)
    with pytest.raises(UsageError, match="--key and --scale"):
        generation.controls(tokens, metadata, None, "D minor", "C D E", None)
    with pytest.raises(UsageError, match="--instruments needs a multi-instrument model"):
        generation.controls(["C4"], {"encoding": "notes"}, "piano", None, None, None)


def test_primers_from_notes_and_midi(band_vocabulary, tmp_path):
    tokens, metadata = band_vocabulary.tokens, band_vocabulary.metadata
    chosen = generation.Controls(programs=frozenset({24}))
    a, b, c = sorted(int(t.split("_")[1]) for t in tokens
                     if t.startswith(("Pitch_", "NoteOn_")))[:3]
    primer = generation.primer_from_notes(f"{a} {b} - {c}", tokens, metadata, chosen)
    assert set(primer) <= set(tokens)  # the quarter note became the nearest known duration
    score = generation.piece(primer, [], metadata, keep_primer=True)
    assert [(t.program, [(n.pitch, n.time // (score.ticks_per_quarter)) for n in t.notes])
            for t in score.tracks] == [(24, [(a, 0), (b, 1), (c, 3)])]
    band_score(bars=2, seed=9).dump_midi(str(tmp_path / "band.mid"))
    primer = generation.primer_from_midi(str(tmp_path / "band.mid"), tokens, metadata)
    assert generation.primer_programs(primer) == {0, 24, 33, DRUMS}
    (tmp_path / "text.mid").write_text("not MIDI")
    for path, message in (("text.mid", "cannot prime the piece: it is not a MIDI file"),
                          ("none.mid", "does not exist")):
        with pytest.raises(UsageError, match=f"--primer_midi .*{message}"):
            generation.primer_from_midi(str(tmp_path / path), tokens, metadata)


def test_primer_bars_cut_the_primer_file_at_its_bar_lines(band_vocabulary, tmp_path):
    """--primer_bars 4 of a file in 4/4, then 3/4 from bar 3 (bar lines at quarters 0, 4, 8,
    11, 14): the file's notes before quarter 14; more bars than the file has: all of it."""
    metadata = band_vocabulary.metadata
    # The meters' tokens too: the vocabulary's pieces are all in 4/4.
    tokens = list(band_vocabulary.tokens) + [
        t for t in encodings.from_metadata(metadata).vocab if t.startswith("TimeSig_")]
    whole = band_score(bars=20, seed=4)
    whole.time_signatures.append(symusic.TimeSignature(8 * whole.ticks_per_quarter, 3, 4))
    whole.dump_midi(str(tmp_path / "long.mid"))

    def primer(bars):
        return generation.primer_from_midi(str(tmp_path / "long.mid"), tokens, metadata,
                                           primer_bars=bars)

    def notes(primer_tokens):
        score = generation.piece(primer_tokens, [], metadata, keep_primer=True)
        return sorted((t.program, t.is_drum, n.time / score.ticks_per_quarter, n.pitch)
                      for t in score.tracks for n in t.notes)

    everything = primer(0)
    assert notes(primer(4)) == [note for note in notes(everything) if note[2] < 14]
    # 26 bars: 2 of 4/4, then 24 of 3/4
    assert primer(26) == primer(500) == everything and len(primer(4)) < len(everything) / 4
    band_score(bars=6, seed=4).shift_time(4 * 4 * 480).dump_midi(str(tmp_path / "late.mid"))
    with pytest.raises(UsageError, match="late.mid has no notes in its first 4 bar"):
        generation.primer_from_midi(str(tmp_path / "late.mid"), tokens, metadata,
                                    primer_bars=4)


def test_a_continuation_starts_at_its_first_whole_bar_and_lengths_cut_in_bars_and_seconds():
    tokenizer = encodings.build("remi")
    metadata = encodings.metadata_of(tokenizer)
    score = band_score(bars=8, seed=3)
    tokens = encodings.encode(score, tokenizer)
    bar_starts = [i for i, t in enumerate(tokens) if t == "Bar_None"]
    middle = (bar_starts[3] + bar_starts[4]) // 2  # of bar 4
    primer, generated = tokens[:middle], tokens[middle:]
    whole = generation.piece(primer, generated, metadata, keep_primer=True)
    after = generation.piece(primer, generated, metadata, keep_primer=False, tempo=90.0)
    assert generation.bars(whole) == 8 and generation.bars(after) == 4  # bars 5 to 8
    assert [t.qpm for t in after.tempos] == pytest.approx([90.0], abs=0.01)
    bar = 4 * after.ticks_per_quarter
    in_bar_5 = sorted((t.program, t.is_drum, n.time - 4 * bar, n.pitch) for t in whole.tracks
                      for n in t.notes if n.time >= 4 * bar)
    assert sorted((t.program, t.is_drum, n.time, n.pitch) for t in after.tracks
                  for n in t.notes) == in_bar_5
    assert generation.bars(generation.clipped(whole, bar_count=3)) == 3
    assert generation.clipped(whole, bar_count=3).end() <= 3 * bar
    two_seconds = generation.clipped(after, second_count=2.0)
    assert 1.5 < generation.seconds(two_seconds) <= 2.0 + 1e-6  # 90 bpm: 3 beats in 2 s


def test_long_enough_asks_again_until_every_stream_is_long_enough():
    asked = []

    def generate(length):
        asked.append(length)
        return np.arange(2 * length).reshape(2, length)

    ids = generation.long_enough(generate, lambda stream: len(stream) / 10, 32, 100, 10_000)
    assert ids.shape[1] >= 320 and asked[0] == 100 and len(asked) == 2
    assert generation.long_enough(generate, lambda s: 0, 1, 100, 1000).shape[1] == 1000


def test_a_written_piece_reads_back_token_for_token(band_vocabulary, tmp_path):
    """What sample.py writes for a primed piece, read by inspect --midi (and --primer_midi, the
    same function), gives back the primer's and the model's tokens, none dropped (MIDI-Like:
    MidiTok's own round trip reorders the events of one moment)."""
    from lstm_core.inspection.inspection import load_input

    metadata = band_vocabulary.metadata
    tokens = encodings.encode(band_score(bars=4, seed=2), encodings.from_metadata(metadata))
    primer, written = tokens[:len(tokens) // 2], tokens[len(tokens) // 2:]
    piece = generation.piece(primer, written, metadata, keep_primer=True)
    piece.dump_midi(str(tmp_path / "piece.mid"))
    read_back = load_input(band_vocabulary, None, None, str(tmp_path / "piece.mid"))
    if band_vocabulary.kind == "midilike":  # MidiTok orders a moment's events by track there
        assert sorted(read_back) == sorted([BOUNDARY] + primer + written)
    else:
        assert read_back == [BOUNDARY] + primer + written
