"""Hearing and seeing a piece: WAV audio (FluidSynth, built-in), piano rolls, TensorBoard."""

import io
import shutil
import wave

import numpy as np
import pytest
import symusic

from band import HIHAT, band_score
from lstm_core.music import render

needs_fluidsynth = pytest.mark.skipif(
    not render.fluidsynth_available(),
    reason="FluidSynth or the fluid-soundfont-gm soundfont is not installed (apt-get install "
           "fluidsynth fluid-soundfont-gm)")


def one_track_score(pitch: int, is_drum: bool, program: int = 0, notes: int = 4) -> symusic.Score:
    score = symusic.Score(480)
    score.tempos.append(symusic.Tempo(0, 120.0))
    track = symusic.Track(name="t", program=program, is_drum=is_drum)
    for n in range(notes):  # quarter notes at 120 bpm: one every 0.5 s
        track.notes.append(symusic.Note(480 * n, 120, pitch, 100))
    score.tracks.append(track)
    return score


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(data)) as w:
        frames = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768
        return frames.reshape(-1, w.getnchannels()).mean(axis=1), w.getframerate()


def spectral_centroid(samples: np.ndarray, sample_rate: int) -> float:
    power = np.abs(np.fft.rfft(samples)) ** 2
    return float((np.fft.rfftfreq(len(samples), 1 / sample_rate) * power).sum() / power.sum())


def test_built_in_synthesiser_plays_pitches_drums_and_velocities(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)  # as if FluidSynth were absent
    a4 = one_track_score(69, is_drum=False, notes=1)
    a4.tracks[0].notes[0].duration = 960  # one second
    assert render.render_audio(a4, str(tmp_path / "a4.wav"), 16000) == "built-in"
    samples, rate = read_wav((tmp_path / "a4.wav").read_bytes())
    assert len(samples) == int(np.ceil((1 + render.RELEASE_SECONDS) * 16000))
    assert np.argmax(np.abs(np.fft.rfft(samples[:16000]))) == 440  # 1 Hz per bin
    hats = render.synthesise(one_track_score(HIHAT, is_drum=True), 16000)
    assert spectral_centroid(hats, 16000) > 3000  # noise, not the 92 Hz of F#2
    soft_loud = one_track_score(60, is_drum=False, notes=2)
    soft_loud.tracks[0].notes[0].velocity = 30
    samples = render.synthesise(soft_loud, 16000)
    assert np.abs(samples[:8000]).max() < 0.5 * np.abs(samples[8000:16000]).max()


@needs_fluidsynth
def test_fluidsynth_plays_drums_as_drums_and_each_track_as_its_instrument(tmp_path):
    def rendered(score: symusic.Score) -> tuple[np.ndarray, int]:
        assert render.render_audio(score, str(tmp_path / "x.wav")) == "fluidsynth"
        return read_wav((tmp_path / "x.wav").read_bytes())

    hats, rate = rendered(one_track_score(HIHAT, is_drum=True))
    assert spectral_centroid(hats[:rate], rate) > 3000
    piano_f_sharp, rate = rendered(one_track_score(HIHAT, is_drum=False))
    assert spectral_centroid(piano_f_sharp[:rate], rate) < 1500
    flute, _ = rendered(one_track_score(72, is_drum=False, program=73))
    piano, _ = rendered(one_track_score(72, is_drum=False, program=0))
    assert np.corrcoef(np.abs(np.fft.rfft(flute[:rate])),
                       np.abs(np.fft.rfft(piano[:rate])))[0, 1] < 0.9  # another timbre
    band, rate = rendered(band_score(bars=2))
    assert len(band) >= 2 * 4 * 60 / 140 * rate and np.abs(band).max() > 0.1


def test_audio_waveform_is_mono_float_in_range():
    waveform = render.audio_waveform(band_score(bars=1), sample_rate=8000)
    assert waveform.dtype == np.float32 and waveform.ndim == 1 and len(waveform) > 8000
    assert 0.05 < np.abs(waveform).max() <= 1.0


def test_piano_roll_names_pitches_bars_and_instruments_and_shades_velocity(tmp_path):
    score = band_score(bars=4)
    axes = render.piano_roll_figure(score).axes[0]
    assert [t.get_text() for t in axes.get_legend().get_texts()] == [
        "Acoustic Grand Piano", "Acoustic Guitar (nylon)", "Electric Bass (finger)", "Drums"]
    assert [t.get_text() for t in axes.get_xticklabels()] == ["1", "2", "3", "4"]
    assert list(axes.get_xticks()) == [0, 1920, 3840, 5760]
    names = [t.get_text() for t in axes.get_yticklabels()]
    assert "C4" in names and all(name.startswith("C") for name in names)
    piano = axes.containers[0]
    assert len(piano) == len(score.tracks[0].notes)
    brightness = [sum(bar.get_facecolor()[:3]) for bar in piano]
    velocities = [n.velocity for n in score.tracks[0].notes]
    assert np.corrcoef(brightness, velocities)[0, 1] < -0.99  # louder: darker, fuller colour
    colours = {tuple(np.round(container[0].get_edgecolor(), 3)) for container in axes.containers}
    assert len(colours) == 4
    render.draw_piano_roll(score, str(tmp_path / "roll.png"))
    image = render.piano_roll_image(score)
    assert (tmp_path / "roll.png").read_bytes().startswith(b"\x89PNG")
    assert image.dtype == np.uint8 and image.shape[2] == 3 and image.shape[1] > 600


def meter_changes(bars_each: int, offset: int) -> symusic.Score:
    """`bars_each` bars of 4/4, of 12/8 from `offset` ticks after the next bar line, then of
    4/4 again, `offset` ticks after its bar line: where a change falls inside a bar, that bar
    is cut short."""
    score = symusic.Score(480)
    compound = 480 * 4 * bars_each + offset
    common = compound + 480 * 6 * bars_each + offset
    for time, numerator, denominator in ((0, 4, 4), (compound, 12, 8), (common, 4, 4)):
        score.time_signatures.append(symusic.TimeSignature(time, numerator, denominator))
    track = symusic.Track(program=0)
    for time in range(0, common + 480 * 4 * bars_each, 240):
        track.notes.append(symusic.Note(time, 240, 60 + time // 240 % 12, 80))
    score.tracks.append(track)
    return score


@pytest.mark.parametrize("bars_each, offset", [(4, 240), (40, 240), (40, 0), (150, 120)])
def test_piano_roll_bar_numbers_never_collide_where_the_meter_changes(bars_each, offset):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    score = meter_changes(bars_each, offset)
    figure = render.piano_roll_figure(score)
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    axes = figure.axes[0]
    downbeats = [int(b) for b in score.get_downbeats()]
    labels = [t for t in axes.get_xticklabels() if t.get_text()]
    numbers = [int(t.get_text()) for t in labels]
    assert numbers[0] == 1 and numbers == sorted(numbers)
    assert [downbeats[n - 1] for n in numbers] == list(axes.get_xticks())
    boxes = [t.get_window_extent(renderer) for t in labels]
    for left, right in zip(boxes, boxes[1:]):  # in the figure's own coordinates
        assert right.x0 - left.x1 > 2, (numbers, left, right)
    assert len(numbers) >= min(len(downbeats) - 2, 20)  # thinned where crowded, never emptied


def test_piano_roll_of_an_empty_piece_is_still_a_picture():
    image = render.piano_roll_image(symusic.Score(480))
    assert image.shape[0] > 100 and image.shape[1] > 100


def test_tensorboard_summaries_hold_audio_and_piano_roll(tmp_path):
    tf = pytest.importorskip("tensorflow")
    from lstm_core.music.summaries import write_sample_summaries

    from lstm_core.music import tokenizer

    remi = tokenizer.build("remi")
    tokens = tokenizer.encode(band_score(bars=1), remi)
    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        write_sample_summaries(tokens, tokenizer.metadata_of(remi), step=7)
    tags = set()
    for event_file in tmp_path.glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            tags |= {(value.tag, event.step) for value in event.summary.value}
    assert tags == {("sample/audio", 7), ("sample/piano_roll", 7)}


def test_a_piece_without_notes_is_silence_at_once(tmp_path):
    """FluidSynth never finishes a MIDI file without notes; such a piece (an untrained model's
    early sample may be one) is silence without it."""
    score = symusic.Score(480)
    score.tempos.append(symusic.Tempo(0, 100.0))
    assert render.render_audio(score, str(tmp_path / "empty.wav")) == "built-in"
    samples, _ = read_wav((tmp_path / "empty.wav").read_bytes())
    assert not samples.any()
    assert not render.audio_waveform(score).any()
