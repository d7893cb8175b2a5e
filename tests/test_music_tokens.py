"""Scores to tokens and back (`lstm_core.music.tokenizer`): each attribute kept through a round
trip, every instrument and the drums, the tokenizer rebuilt from the vocabulary file, BPE."""

import json

import numpy as np
import pytest

import midi_files
from lstm_core.errors import UsageError
from lstm_core.music import describe, roundtrip, scores, tokenizer
from lstm_core.music.constants import DRUMS, programs_named
from lstm_core.preprocessing import Vocabulary


def round_trip(piece, encoding="remi"):
    music_tokenizer = tokenizer.build(encoding)
    tokens = tokenizer.encode(piece, music_tokenizer)
    return tokens, tokenizer.decode(tokens, tokenizer.metadata_of(music_tokenizer))


def notes_by_program(piece):
    """program → sorted (pitch, onset in quarters, duration in quarters, velocity)."""
    tpq = piece.ticks_per_quarter
    return {scores.program_of(t): sorted((n.pitch, n.time / tpq, n.duration / tpq, n.velocity)
                                         for n in t.notes) for t in piece.tracks}


@pytest.mark.parametrize("encoding", ["remi", "tsd", "midilike"])
def test_round_trip_keeps_pitch_onset_duration_velocity_program_and_drums(encoding):
    piece = midi_files.band()
    _, back = round_trip(piece, encoding)
    # Velocities 30, 60, 90, 120 fall in MidiTok's 32 bins (3, 7, ..., 127): the nearest bin.
    bins = np.linspace(0, 127, 33, dtype=np.intc)[1:]
    expected = {p: [(pitch, onset, duration, int(bins[np.abs(bins - v).argmin()]))
                    for pitch, onset, duration, v in notes]
                for p, notes in notes_by_program(piece).items()}
    assert notes_by_program(back) == expected
    assert {(scores.program_of(t), t.is_drum) for t in back.tracks} == {
        (0, False), (33, False), (DRUMS, True)}


def read_band(folder):
    """The band piece as read from its MIDI file (symusic reads pedals from control 64)."""
    return scores.read_score(midi_files.write(folder / "band.mid", midi_files.band()))


def test_round_trip_keeps_tempo_changes_time_signature_and_pedal(tmp_path):
    _, back = round_trip(read_band(tmp_path))
    # 32 tempo bins between 40 and 250: each tempo to its nearest bin, within 4 %.
    assert [t.time / back.ticks_per_quarter for t in back.tempos] == [0, 4]
    assert [t.qpm for t in back.tempos] == pytest.approx([100, 140], rel=0.04)
    assert [(t.numerator, t.denominator) for t in back.time_signatures] == [(4, 4)]
    [piano] = [t for t in back.tracks if t.program == 0 and not t.is_drum]
    assert [(p.time / back.ticks_per_quarter, p.duration / back.ticks_per_quarter)
            for p in piano.pedals] == [(0, 2), (4, 2)]


def test_remi_tokens_are_one_stream_with_programs_velocities_and_bars(tmp_path):
    tokens, _ = round_trip(read_band(tmp_path))
    assert tokens[0] == "Bar_None"
    assert {"Program_0", "Program_33", "Program_-1", "Velocity_31", "Pedal_0"} <= set(tokens)
    assert len({t for t in tokens if t.startswith("Tempo_")}) == 2  # the band's 100 and 140 bpm


def test_type0_file_with_drums_reads_as_tracks_per_program(tmp_path):
    path = midi_files.write_type0(tmp_path / "type0.mid", [
        (0, 0, 60, 0, 1, 80), (0, 0, 64, 1, 1, 90), (1, 33, 40, 0, 2, 70),
        (9, 0, 36, 0, 0.5, 100), (9, 0, 42, 0.5, 0.5, 60)])
    _, back = round_trip(scores.read_score(path))
    assert notes_by_program(back) == {0: [(60, 0, 1, 79), (64, 1, 1, 91)], 33: [(40, 0, 2, 71)],
                                      DRUMS: [(36, 0, 0.5, 99), (42, 0.5, 0.5, 59)]}


def test_decoding_leaves_out_what_it_cannot_read():
    metadata = tokenizer.metadata_of(tokenizer.build())
    back = tokenizer.decode(["<piece>", "garbage", "Pitch_60", "Bar_None", "Position_0",
                             "Program_0", "Pitch_62", "Velocity_63", "Duration_1.0.8"], metadata)
    assert [(n.pitch, n.velocity) for t in back.tracks for n in t.notes] == [(62, 63)]
    assert tokenizer.decode([], metadata).note_num() == 0


def test_the_tokenizer_is_rebuilt_from_the_vocabulary_file(tmp_path):
    music_tokenizer = tokenizer.build("tsd")
    tokens = tokenizer.encode(midi_files.band(), music_tokenizer)
    Vocabulary.build(tokens, "tsd", metadata=tokenizer.metadata_of(music_tokenizer)).save(
        str(tmp_path / "band.vocab"))
    metadata = Vocabulary.load(str(tmp_path / "band.vocab")).metadata
    rebuilt = tokenizer.from_metadata(metadata)
    assert type(rebuilt).__name__ == "TSD"
    assert (json.dumps(rebuilt.config.to_dict(serialize=True), sort_keys=True)
            == json.dumps(music_tokenizer.config.to_dict(serialize=True), sort_keys=True))
    assert tokenizer.encode(midi_files.band(), rebuilt) == tokens


def test_a_vocabulary_whose_tokenizer_does_not_match_is_a_usage_error():
    remi = tokenizer.metadata_of(tokenizer.build("remi"))
    tsd_tokens = tokenizer.encode(midi_files.piano(), tokenizer.build("tsd"))
    with pytest.raises(UsageError, match="does not match the model"):
        tokenizer.check_vocabulary(tsd_tokens, remi, "the vocabulary")
    tokenizer.check_vocabulary(tokenizer.encode(midi_files.piano(), tokenizer.build("remi")),
                               remi, "the vocabulary")
    with pytest.raises(UsageError, match="records another tokenizer configuration"):
        tokenizer.check_same_tokenizer(remi, tokenizer.metadata_of(tokenizer.build("tsd")),
                                       "--vocabulary_file v", "songs")
    damaged = json.loads(json.dumps(remi))
    damaged["tokenizer"]["config"]["num_velocities"] = "many"
    with pytest.raises(UsageError, match="cannot be rebuilt"):
        tokenizer.from_metadata(damaged, "the vocabulary")
    with pytest.raises(UsageError, match="no tokenizer"):
        tokenizer.from_metadata({"encoding": "events"})


def test_bpe_merges_tokens_and_decodes_to_the_same_notes():
    pieces = [midi_files.band(), midi_files.piano()]
    base = tokenizer.build()
    learned = tokenizer.build()
    tokenizer.learn_bpe(learned, pieces, len(base) + 40)
    metadata = json.loads(json.dumps(tokenizer.metadata_of(learned)))  # as saved
    tokens = tokenizer.encode(pieces[0], tokenizer.from_metadata(metadata))
    plain = tokenizer.encode(pieces[0], base)
    assert len(tokens) < len(plain)
    assert [b for t in tokens for b in tokenizer.base_tokens(t)] == plain
    assert (notes_by_program(tokenizer.decode(tokens, metadata))
            == notes_by_program(tokenizer.decode(plain, tokenizer.metadata_of(base))))


def test_notes_encoding_is_the_tutorial_tokens():
    piece = midi_files.score(midi_files.track([76, 61, [60, 64, 67], [64, 67, 71]]),
                             midi_files.track([36], drums=True))
    tokens, back = round_trip(piece, "notes")
    assert tokens == ["E5", "C#4", "0.4.7", "4.7.11"]
    assert [(n.pitch, n.time) for n in back.tracks[0].notes] == [
        (76, 0), (61, 6), (60, 12), (64, 12), (67, 12), (64, 18), (67, 18), (71, 18)]


def test_unknown_encodings_and_instruments_are_usage_errors():
    with pytest.raises(UsageError, match="--encoding is 'events'"):
        tokenizer.build("events")
    assert programs_named("all") is None
    assert programs_named("piano, 33 ,Drums") == frozenset(range(8)) | {33, DRUMS}
    assert programs_named("Acoustic Grand Piano,tenor sax") == {0, 66}
    for bad in ("kazoo", "128", ""):
        with pytest.raises(UsageError, match="--instruments"):
            programs_named(bad)


def test_instrument_selection_keeps_the_named_tracks_or_says_why_not():
    band = midi_files.band()
    kept = scores.select_instruments(band, programs_named("bass,drums"))
    assert sorted(scores.program_of(t) for t in kept.tracks) == [DRUMS, 33]
    with pytest.raises(scores.Unusable, match=r"none of its instruments \(Acoustic Grand Piano, "
                                              r"Drums, Electric Bass \(finger\)\)"):
        scores.select_instruments(band, programs_named("violin"))
    drums = midi_files.score(midi_files.track([36, 38], drums=True))
    with pytest.raises(scores.Unusable, match="only drum notes"):
        scores.select_instruments(drums, programs_named("piano"))
    with pytest.raises(scores.Unusable, match="no notes"):
        scores.select_instruments(midi_files.score(midi_files.track([])), None)


def test_roundtrip_command_keeps_99_percent_on_synthetic_files(tmp_path):
    midi_files.write(tmp_path / "band.mid", midi_files.band())
    totals = roundtrip.measure(scores.read_score(tmp_path / "band.mid"), tokenizer.build())
    result = roundtrip.summary(totals, 1)
    assert result["files"] == 1 and result["notes"] == 48
    assert all(result[k] == 1.0 for k in ("pitch_onset", "duration", "velocity", "program",
                                          "drum_notes"))


def test_round_trip_keeps_99_percent_of_piano_notes(shared_data):
    folder = shared_data("midi", "piano")
    music_tokenizer = tokenizer.build()
    totals = sum((roundtrip.measure(scores.read_score(p), music_tokenizer)
                  for p in sorted(folder.glob("*.mid"))[:20]), start=__import__("collections")
                 .Counter())
    result = roundtrip.summary(totals, 20)
    assert result["pitch_onset"] >= 0.99 and result["velocity"] >= 0.99


def test_describe_reports_tracks_velocities_tempo_changes_and_pedal(tmp_path):
    figures = describe.describe([read_band(tmp_path)])
    assert figures["tracks"] == 3
    assert figures["programs"] == {"Acoustic Grand Piano": 24, "Drums": 16,
                                   "Electric Bass (finger)": 8}
    assert figures["velocities"] == 8 and figures["velocity_range"] == [30, 120]
    assert figures["tempo_changes"] == 1 and figures["pedals"] == 2
    assert figures["chord_share"] == 1.0  # every piano onset is a triad
