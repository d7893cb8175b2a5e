"""Generated music as MIDI, WAV, piano rolls and TensorBoard summaries."""

import os
import shutil
import wave

import numpy as np
import pytest
import symusic

import midi_files
from lstm_core.music import (audio_waveform, draw_notes_piano_roll, draw_piano_roll,
                             notes_piano_roll_image, piano_roll_image, render, render_audio,
                             scores, tokenizer, write_midi)


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


def test_built_in_synthesiser_writes_a_wav_of_the_right_length(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)  # as if FluidSynth were absent
    midi_path, wav_path = tmp_path / "piece.mid", tmp_path / "piece.wav"
    write_midi(SAMPLED, METADATA, str(midi_path))
    assert render_audio(str(midi_path), str(wav_path), sample_rate=8000) == "built-in"
    with wave.open(str(wav_path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
        frames = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    seconds_per_quarter = 60 / scores.read_score(midi_path).tempos[0].qpm  # the bin near 150
    end = 2.5 * seconds_per_quarter + render.RELEASE_SECONDS  # the G4 ends at 2.5 quarters
    assert len(frames) == pytest.approx(end * 8000, abs=2)
    assert np.abs(frames).max() > 0.5 * 32767
    # Chord released at 1 quarter (+ its release), G4 at 2 quarters: silence between.
    rest = frames[int((seconds_per_quarter + 0.21) * 8000):int(2 * seconds_per_quarter * 8000)]
    assert np.abs(rest).max() < 0.01 * 32767


@pytest.mark.skipif(not (shutil.which("fluidsynth") and os.path.exists(render.SOUNDFONT)),
                    reason="FluidSynth or the fluid-soundfont-gm soundfont is not installed")
def test_fluidsynth_renders_when_installed(tmp_path):
    write_midi(SAMPLED, METADATA, str(tmp_path / "piece.mid"))
    assert render_audio(str(tmp_path / "piece.mid"), str(tmp_path / "piece.wav")) == "fluidsynth"
    with wave.open(str(tmp_path / "piece.wav")) as w:
        assert w.getnframes() > 0.5 * w.getframerate()


def test_waveform_follows_the_pitch():
    a4 = midi_files.score(midi_files.track([69], step=4.0), tempos=(150.0,))  # 1.6 s
    waveform = audio_waveform(tokenizer.encode(a4, tokenizer.build()), METADATA, 16000)
    assert waveform.dtype == np.float32 and waveform.ndim == 1
    spectrum = np.abs(np.fft.rfft(waveform[:16000]))
    assert np.argmax(spectrum) == 440  # 1 Hz per bin over one second


def test_piano_roll_places_notes_by_pitch_and_time(tmp_path):
    image = piano_roll_image(SAMPLED, METADATA)
    keys = 108 - 21 + 1
    assert image.shape == (keys * render.ROWS_PER_PITCH, 10, 3) and image.dtype == np.uint8
    row = lambda pitch: (108 - pitch) * render.ROWS_PER_PITCH  # noqa: E731
    assert tuple(image[row(60), 0]) == render.ONSET and tuple(image[row(60), 3]) == render.NOTE
    assert tuple(image[row(67), 8]) == render.ONSET and tuple(image[row(67), 9]) == render.NOTE
    assert tuple(image[row(62), 2]) == render.BACKGROUND
    tf = pytest.importorskip("tensorflow")
    draw_piano_roll(SAMPLED, METADATA, str(tmp_path / "roll.png"))
    decoded = tf.io.decode_png(tf.io.read_file(str(tmp_path / "roll.png"))).numpy()
    np.testing.assert_array_equal(decoded, image)


def test_piano_roll_of_a_score_draws_bars_in_its_time_signature(tmp_path):
    notes = midi_files.track([60], step=8.0)  # two 4/4 bars, 32 columns of a sixteenth
    row = (108 - 100) * render.ROWS_PER_PITCH  # E7: no note, no C line
    bars = lambda image: [c for c in range(image.shape[1])  # noqa: E731
                          if tuple(image[row, c]) == render.GUIDE]
    in_3_4 = midi_files.score(notes, time_signature=(3, 4))
    assert bars(notes_piano_roll_image(in_3_4)) == [0, 12, 24]
    assert bars(notes_piano_roll_image(midi_files.score(notes.copy()))) == [0, 16]
    draw_notes_piano_roll(in_3_4, str(tmp_path / "notes.png"))
    assert (tmp_path / "notes.png").read_bytes().startswith(b"\x89PNG")


def test_tensorboard_summaries_hold_audio_and_piano_roll(tmp_path):
    tf = pytest.importorskip("tensorflow")
    from lstm_core.music.summaries import write_sample_summaries

    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        write_sample_summaries(SAMPLED, METADATA, step=7)
    tags = set()
    for event_file in tmp_path.glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            tags |= {(value.tag, event.step) for value in event.summary.value}
    assert tags == {("sample/audio", 7), ("sample/piano_roll", 7)}
