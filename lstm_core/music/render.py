"""Hearing and seeing a piece (a symusic `Score`): WAV audio and piano-roll pictures.

Audio comes from FluidSynth with the General MIDI soundfont when both are installed (Debian
packages ``fluidsynth`` and ``fluid-soundfont-gm``, which puts the soundfont at `SOUNDFONT`): each
track sounds as its General MIDI program, the drum track (MIDI channel 10) as the drum kit.
Otherwise a small built-in synthesiser plays each pitched note as sine partials (1, 1/2, 1/4, 1/8
of the fundamental's amplitude) and each drum hit as a burst of noise, louder with its velocity,
with a 5 ms attack, an exponential decay and a release of `RELEASE_SECONDS` after the note ends;
it needs nothing beyond numpy and the stdlib ``wave``.

A piano roll is a matplotlib plot: time from left to right with bar numbers (spaced so that no
two touch, `bar_labels`), pitch from bottom to top with note names at every C (and drum hits at
their General MIDI key), one colour per track named in the legend, each note a bar whose
brightness is its velocity (pale: soft, full: loud).
"""

from __future__ import annotations

import io
import math
import os
import shutil
import subprocess
import tempfile
import wave

import numpy as np
import symusic

from lstm_core.files import atomic_write
from lstm_core.progress import Report, silent_report

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
RELEASE_SECONDS = 0.2
ATTACK_SECONDS = 0.005
DECAY_PER_SECOND = 3.0
DRUM_DECAY_PER_SECOND = 25.0
PARTIALS = (1.0, 0.5, 0.25, 0.125)
PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MIN_PITCHES = 24  # a piano roll shows at least two octaves
COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown",
           "tab:pink", "tab:olive", "tab:cyan", "tab:gray")
LABEL_SPACE = 1.6  # a bar label's room, in widths of its number: the number and a gap
DIGIT_WIDTH = 0.64  # of matplotlib's DejaVu Sans, in ems
DOTS_PER_INCH = 100
FLUIDSYNTH_SECONDS, FLUIDSYNTH_SECONDS_PER_SECOND = 60, 2  # its time limit: start, per second


def pitch_name(pitch: int) -> str:
    """``60`` → ``C4`` (scientific pitch notation, middle C is C4)."""
    return f"{PITCH_NAMES[pitch % 12]}{pitch // 12 - 1}"


def track_label(track: symusic.Track) -> str:
    return track.name or ("Drums" if track.is_drum else f"Program {track.program}")


# ---- audio ---------------------------------------------------------------------------------
def synthesise(score: symusic.Score, sample_rate: int) -> np.ndarray:
    """The built-in synthesiser's mono samples `[samples]` float32 in [-1, 1] of `score` (its
    tempo map applied): until the last note ends, plus its release."""
    timed = score.to("second")
    notes = [(n, track.is_drum) for track in timed.tracks for n in track.notes]
    end = max((n.time + n.duration for n, _ in notes), default=0.0)
    samples = np.zeros(int(np.ceil((end + RELEASE_SECONDS) * sample_rate)), np.float32)
    noise = np.random.default_rng(0).uniform(-1, 1, int(sample_rate * (1 + RELEASE_SECONDS)))
    for n, is_drum in notes:
        held = min(n.duration, 1.0) if is_drum else n.duration
        t = np.arange(int((held + RELEASE_SECONDS) * sample_rate)) / sample_rate
        envelope = (np.minimum(1, t / ATTACK_SECONDS) * (n.velocity / 127)
                    * np.clip((held + RELEASE_SECONDS - t) / RELEASE_SECONDS, 0, 1))
        if is_drum:  # a hit: noise, decaying fast
            tone = noise[:len(t)] * np.exp(-DRUM_DECAY_PER_SECOND * t)
        else:
            frequency = 440.0 * 2 ** ((n.pitch - 69) / 12)
            tone = np.exp(-DECAY_PER_SECOND * t) * sum(
                a * np.sin(2 * np.pi * k * frequency * t)
                for k, a in enumerate(PARTIALS, 1) if k * frequency < sample_rate / 2)
        start = int(round(n.time * sample_rate))
        samples[start:start + len(t)] += (envelope * tone)[:len(samples) - start]
    peak = np.abs(samples).max(initial=0)
    return samples * (0.8 / peak) if peak > 0 else samples


def wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    """16-bit mono WAV of `samples` `[samples]` in [-1, 1]."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def fluidsynth_available() -> bool:
    return shutil.which("fluidsynth") is not None and os.path.exists(SOUNDFONT)


def fluidsynth_wav(score: symusic.Score, sample_rate: int, report: Report = silent_report
                   ) -> bytes | None:
    """FluidSynth's WAV of `score` (None, with a warning to `report`, when it fails or takes far
    longer than the piece lasts)."""
    timeout = FLUIDSYNTH_SECONDS + FLUIDSYNTH_SECONDS_PER_SECOND * float(score.to("second").end())
    with tempfile.TemporaryDirectory() as directory:
        midi_path, rendered = (os.path.join(directory, name) for name in ("piece.mid", "audio.wav"))
        score.dump_midi(midi_path)
        try:
            result = subprocess.run(["fluidsynth", "-ni", "-q", "-F", rendered, "-r",
                                     str(sample_rate), SOUNDFONT, midi_path],
                                    capture_output=True, timeout=timeout)
            why = repr(result.stderr.decode()[-200:])
            if result.returncode == 0 and os.path.exists(rendered):
                with open(rendered, "rb") as f:
                    return f.read()
        except subprocess.TimeoutExpired:
            why = f"no result after {timeout:.0f} s"
    report(f"warning: fluidsynth failed ({why}); using the built-in synthesiser")
    return None


def render_audio(score: symusic.Score, wav_path: str, sample_rate: int = 44100,
                 report: Report = silent_report) -> str:
    """Renders `score` to WAV, atomically; returns the renderer, ``fluidsynth`` or
    ``built-in``. A piece without notes is silence (FluidSynth would wait forever on it). A
    warning (silence, FluidSynth failing) goes to `report`."""
    if not score.note_num():
        report(f"warning: the piece has no notes; {wav_path} is silent")
    elif fluidsynth_available() and (rendered := fluidsynth_wav(score, sample_rate, report)):
        atomic_write(wav_path, rendered)
        return "fluidsynth"
    atomic_write(wav_path, wav_bytes(synthesise(score, sample_rate), sample_rate))
    return "built-in"


def audio_waveform(score: symusic.Score, sample_rate: int = 16000) -> np.ndarray:
    """How `score` sounds, mono `[samples]` float32 in [-1, 1]: FluidSynth's rendering when it is
    installed, else the built-in synthesiser's."""
    if fluidsynth_available() and score.note_num() and (rendered := fluidsynth_wav(score,
                                                                                    sample_rate)):
        with wave.open(io.BytesIO(rendered)) as w:
            frames = np.frombuffer(w.readframes(w.getnframes()), f"<i{w.getsampwidth()}")
            channels = w.getnchannels()
        return (frames.reshape(-1, channels).mean(axis=1) / 32768).astype(np.float32)
    return synthesise(score, sample_rate)


# ---- pictures ------------------------------------------------------------------------------
def piano_roll_figure(score: symusic.Score):
    """A matplotlib `Figure` of the piano roll of `score` (see the module docstring)."""
    from matplotlib import rcParams
    from matplotlib.colors import to_rgb
    from matplotlib.font_manager import FontProperties
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    tracks = [t for t in score.tracks if t.notes]
    pitches = [n.pitch for t in tracks for n in t.notes] or [60]
    low, high = min(pitches), max(pitches)
    if high - low < MIN_PITCHES:
        low = max(0, (low + high - MIN_PITCHES) // 2)
        high = low + MIN_PITCHES
    downbeats = [int(b) for b in score.get_downbeats()] or [0]
    end = max(score.end(), downbeats[-1] + 1, 1)
    bars = len(downbeats)
    figure = Figure(figsize=(min(26.0, 6 + 0.9 * bars), min(12.0, 2 + 0.09 * (high - low))),
                    dpi=DOTS_PER_INCH, layout="constrained")
    axes = figure.add_subplot()
    for i, track in enumerate(tracks):
        colour = np.array(to_rgb(COLOURS[i % len(COLOURS)]))
        velocity = np.array([n.velocity for n in track.notes]) / 127
        shades = 1 - (0.2 + 0.8 * velocity[:, None]) * (1 - colour)  # pale = soft
        axes.barh([n.pitch for n in track.notes], [max(n.duration, 1) for n in track.notes],
                  left=[n.time for n in track.notes], height=0.85, color=shades,
                  edgecolor=colour, linewidth=0.4)
    axes.set_xlim(0, end)
    axes.set_ylim(low - 1, high + 1)
    axes.set_xticks(downbeats, minor=True)
    axes.grid(axis="x", which="both", color="0.85", linewidth=0.6)
    cs = [p for p in range(low, high + 1) if p % 12 == 0]
    axes.set_yticks(cs, [pitch_name(p) for p in cs])
    axes.grid(axis="y", color="0.85", linewidth=0.6)
    axes.set_axisbelow(True)
    axes.set_xlabel("bar")
    axes.set_ylabel("pitch")
    if tracks:  # in each track's full colour: its first note's may be pale
        axes.legend([Patch(color=COLOURS[i % len(COLOURS)]) for i in range(len(tracks))],
                    [track_label(t) for t in tracks], loc="upper left",
                    bbox_to_anchor=(1.005, 1), fontsize="small", frameon=False)
    figure.draw_without_rendering()  # lays the axes out: their width sets the labels' spacing
    em = FontProperties(size=rcParams["xtick.labelsize"]).get_size_in_points() / 72  # inches
    ticks_per_inch = end / (axes.get_window_extent().width / figure.dpi)
    labelled = bar_labels(downbeats, LABEL_SPACE * DIGIT_WIDTH * em * len(str(bars))
                          * ticks_per_inch)
    axes.set_xticks([downbeats[b] for b in labelled], [str(b + 1) for b in labelled])
    return figure


def bar_labels(downbeats: list[int], gap: float) -> list[int]:
    """The bars to number (0-based) so that no two numbers lie closer than `gap` ticks: every
    Nth bar, N the smallest step that keeps a typical bar's numbers apart, less any that would
    still crowd the last one kept (a bar shortened where the time signature changes)."""
    lengths = np.diff(downbeats) if len(downbeats) > 1 else np.array([gap or 1])
    typical = float(np.median(lengths))
    every = max(1, math.ceil(gap / typical)) if typical > 0 else 1
    labelled: list[int] = []
    for bar in range(0, len(downbeats), every):
        if not labelled or downbeats[bar] - downbeats[labelled[-1]] >= gap:
            labelled.append(bar)
    return labelled


def piano_roll_image(score: symusic.Score) -> np.ndarray:
    """The piano roll of `score` as `[height, width, 3]` uint8 RGB (for TensorBoard)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(piano_roll_figure(score))
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def draw_piano_roll(score: symusic.Score, png_path: str) -> None:
    """Writes the piano roll of `score` as a PNG file, atomically."""
    buffer = io.BytesIO()
    piano_roll_figure(score).savefig(buffer, format="png")
    atomic_write(png_path, buffer.getvalue())
