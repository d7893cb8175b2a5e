"""Generated music as MIDI, WAV, piano rolls and TensorBoard summaries."""

import os
import shutil
import wave

import numpy as np
import pytest
from music21 import converter, instrument, tempo

from lstm_core.music import (audio_waveform, draw_notes_piano_roll, draw_piano_roll,
                             notes_piano_roll_image, piano_roll_image, render, render_audio,
                             write_midi)
from lstm_core.music.events import Note

METADATA = {"encoding": "events", "tempo": 150.0, "time_signature": "3/4"}
# A C major chord (a quarter), a rest, a G4 eighth; a stray boundary and junk a sampler may make.
TOKENS = ["n60_d12", "n64_d12", "n67_d12", "wait_24", "junk", "n67_d6", "<piece>"]
SECONDS_PER_TICK = 60 / (150 * 12)


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


def test_built_in_synthesiser_writes_a_wav_of_the_right_length(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)  # as if FluidSynth were absent
    midi_path, wav_path = tmp_path / "piece.mid", tmp_path / "piece.wav"
    write_midi(TOKENS, METADATA, str(midi_path))
    assert render_audio(str(midi_path), str(wav_path), sample_rate=8000) == "built-in"
    with wave.open(str(wav_path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
        frames = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    end = 30 * SECONDS_PER_TICK + render.RELEASE_SECONDS  # the G4 ends at tick 30
    assert len(frames) == int(np.ceil(end * 8000))
    assert np.abs(frames).max() > 0.5 * 32767
    rest = frames[int(0.61 * 8000):int(0.79 * 8000)]  # chord released at 0.6 s, G4 at 0.8 s
    assert np.abs(rest).max() < 0.01 * 32767


@pytest.mark.skipif(not (shutil.which("fluidsynth") and os.path.exists(render.SOUNDFONT)),
                    reason="FluidSynth or the fluid-soundfont-gm soundfont is not installed")
def test_fluidsynth_renders_when_installed(tmp_path):
    write_midi(TOKENS, METADATA, str(tmp_path / "piece.mid"))
    assert render_audio(str(tmp_path / "piece.mid"), str(tmp_path / "piece.wav")) == "fluidsynth"
    with wave.open(str(tmp_path / "piece.wav")) as w:
        assert w.getnframes() > 0.5 * w.getframerate()


def test_waveform_follows_the_pitch():
    waveform = audio_waveform(["n69_d48"], METADATA, sample_rate=16000)  # A4, 440 Hz, 1.6 s
    assert waveform.dtype == np.float32 and waveform.ndim == 1
    spectrum = np.abs(np.fft.rfft(waveform[:16000]))
    assert np.argmax(spectrum) == 440  # 1 Hz per bin over one second


def test_piano_roll_places_notes_by_pitch_and_time(tmp_path):
    image = piano_roll_image(TOKENS, METADATA)
    keys = 108 - 21 + 1
    assert image.shape == (keys * render.ROWS_PER_PITCH, 10, 3) and image.dtype == np.uint8
    row = lambda pitch: (108 - pitch) * render.ROWS_PER_PITCH  # noqa: E731
    assert tuple(image[row(60), 0]) == render.ONSET and tuple(image[row(60), 3]) == render.NOTE
    assert tuple(image[row(67), 8]) == render.ONSET and tuple(image[row(67), 9]) == render.NOTE
    assert tuple(image[row(62), 2]) == render.BACKGROUND
    tf = pytest.importorskip("tensorflow")
    draw_piano_roll(TOKENS, METADATA, str(tmp_path / "roll.png"))
    decoded = tf.io.decode_png(tf.io.read_file(str(tmp_path / "roll.png"))).numpy()
    np.testing.assert_array_equal(decoded, image)


def test_piano_roll_of_notes_draws_bars_in_their_time_signature(tmp_path):
    notes = [Note(60, 0, 96), Note(72, 48, 12)]  # two 4/4 bars, 32 columns of a sixteenth
    row = (108 - 100) * render.ROWS_PER_PITCH  # E7: no note, no C line
    bars = lambda image: [c for c in range(image.shape[1])  # noqa: E731
                          if tuple(image[row, c]) == render.GUIDE]
    assert bars(notes_piano_roll_image(notes, "3/4")) == [0, 12, 24]
    assert bars(notes_piano_roll_image(notes, "4/4")) == [0, 16]
    assert bars(notes_piano_roll_image(notes)) == [0, 16]  # 4/4 unless told
    decoded = render.encodings.decode(TOKENS, METADATA)
    np.testing.assert_array_equal(notes_piano_roll_image(decoded, "3/4"),
                                  piano_roll_image(TOKENS, METADATA))
    draw_notes_piano_roll(notes, "3/4", str(tmp_path / "notes.png"))
    assert (tmp_path / "notes.png").read_bytes().startswith(b"\x89PNG")


def test_tensorboard_summaries_hold_audio_and_piano_roll(tmp_path):
    tf = pytest.importorskip("tensorflow")
    from lstm_core.music.summaries import write_sample_summaries

    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        write_sample_summaries(TOKENS, METADATA, step=7)
    tags = set()
    for event_file in tmp_path.glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            tags |= {(value.tag, event.step) for value in event.summary.value}
    assert tags == {("sample/audio", 7), ("sample/piano_roll", 7)}
