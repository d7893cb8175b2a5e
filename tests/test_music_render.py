"""Generated music as MIDI, WAV, piano rolls and TensorBoard summaries."""

from music21 import converter, instrument, tempo

from lstm_core.music import write_midi

METADATA = {"encoding": "events", "tempo": 150.0, "time_signature": "3/4"}
# A C major chord (a quarter), a rest, a G4 eighth; a stray boundary and junk a sampler may make.
TOKENS = ["n60_d12", "n64_d12", "n67_d12", "wait_24", "junk", "n67_d6", "<piece>"]


def test_midi_opens_in_music21_with_piano_tempo_and_rhythm(tmp_path):
    path = tmp_path / "piece.mid"
    write_midi(TOKENS, METADATA, str(path))
    score = converter.parse(path)
    notes = [(p.midi, float(n.offset), float(n.quarterLength))
             for n in score.flatten().notes for p in n.pitches]
    assert sorted(notes) == [(60, 0.0, 1.0), (64, 0.0, 1.0), (67, 0.0, 1.0), (67, 2.0, 0.5)]
    assert score.recurse().getElementsByClass(tempo.MetronomeMark)[0].number == 150
    assert isinstance(score.recurse().getElementsByClass(instrument.Instrument)[0],
                      instrument.Piano)


def test_notes_encoding_writes_midi_too(tmp_path):
    path = tmp_path / "legacy.mid"
    write_midi(["0.4.7", "E5", "B-4"], dict(METADATA, encoding="notes"), str(path))
    offsets = sorted({float(n.offset) for n in converter.parse(path).flatten().notes})
    assert offsets == [0.0, 0.5, 1.0]
