"""Sampled tokens written as MIDI (hearing and seeing them: test_music_hear_see.py)."""

import pytest
import symusic

import midi_files
from lstm_core.music import scores, tokenizer, write_midi


def piece_tokens():
    """A C major chord (a quarter), a rest, a G4 eighth, at 150 quarters a minute in 3/4; and
    the tokenizer's metadata."""
    piece = midi_files.score(midi_files.track([[60, 64, 67]], velocities=[100]),
                             tempos=(150.0,), time_signature=(3, 4))
    piece.tracks[0].notes.append(symusic.Note(2 * midi_files.TPQ, midi_files.TPQ // 2, 67, 60))
    music_tokenizer = tokenizer.build()
    return tokenizer.encode(piece, music_tokenizer), tokenizer.metadata_of(music_tokenizer)


TOKENS, METADATA = piece_tokens()
SAMPLED = TOKENS + ["junk", "<piece>"]  # a stray boundary and junk a sampler may make


def test_midi_holds_the_notes_velocities_tempo_and_meter(tmp_path):
    path = tmp_path / "piece.mid"
    written = write_midi(SAMPLED, METADATA, str(path))
    back = scores.read_score(path)
    assert back.note_num() == written.note_num() == 4
    tpq = back.ticks_per_quarter
    assert sorted((n.pitch, n.time / tpq, n.duration / tpq, n.velocity)
                  for t in back.tracks for n in t.notes) == [
        (60, 0, 1, 99), (64, 0, 1, 99), (67, 0, 1, 99), (67, 2, 0.5, 59)]
    assert [t.program for t in back.tracks] == [0]
    assert back.tempos[0].qpm == pytest.approx(150, rel=0.02)
    assert [(s.numerator, s.denominator) for s in back.time_signatures][:1] == [(3, 4)]
    write_midi(SAMPLED, METADATA, str(path), tempo=90.0)
    assert [round(t.qpm) for t in scores.read_score(path).tempos] == [90]


def test_notes_encoding_writes_midi_too(tmp_path):
    path = tmp_path / "notes.mid"
    write_midi(["0.4.7", "E5", "B-4"], {"encoding": "notes"}, str(path))
    back = scores.read_score(path)
    onsets = sorted({n.time / back.ticks_per_quarter for n in back.tracks[0].notes})
    assert onsets == [0.0, 0.5, 1.0]
