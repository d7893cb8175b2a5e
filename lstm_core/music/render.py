"""Hearing and seeing a piece: WAV audio and piano-roll pictures.

Audio comes from FluidSynth with a General MIDI soundfont when both are installed (Debian
packages ``fluidsynth`` and ``fluid-soundfont-gm``, which puts the soundfont at `SOUNDFONT`).
Otherwise a small built-in synthesiser plays each pitched note as sine partials (1, 1/2, 1/4, 1/8
of the fundamental's amplitude) with a 5 ms attack, an exponential decay, and a release of
`RELEASE_SECONDS` after the note ends; it needs nothing beyond numpy and the stdlib ``wave``.

A piano roll has time from left to right (one column per sixteenth note, fewer when the piece is
long), pitch from bottom to top (two rows per semitone, the 88 piano keys at least), a grey line
under every C and at every bar, notes in blue with a darker first column so repeated notes stay
apart. PNG files are written with zlib, no imaging library needed.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
import wave
from typing import Sequence

import numpy as np

import symusic

from lstm_core.music import scores, tokenizer
from lstm_core.music.constants import DEFAULT_TIME_SIGNATURE, GRID
from lstm_core.png import write_png
from lstm_core.files import atomic_write

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
RELEASE_SECONDS = 0.2
ATTACK_SECONDS = 0.005
DECAY_PER_SECOND = 3.0
PARTIALS = (1.0, 0.5, 0.25, 0.125)
PIANO_KEYS = (21, 108)  # MIDI pitches of the lowest and highest piano keys
ROWS_PER_PITCH = 2
MAX_WIDTH = 4096  # pixels
BACKGROUND, GUIDE, NOTE, ONSET = (255, 255, 255), (225, 225, 225), (70, 110, 200), (20, 40, 110)


# ---- audio ---------------------------------------------------------------------------------
def synthesise(score: symusic.Score, sample_rate: int) -> np.ndarray:
    """Mono samples `[samples]` float32 in [-1, 1] of the pitched notes of `score`, louder with
    velocity, at its tempos: until the last note ends, plus its release."""
    timed = score.to("second")
    notes = [n for track in timed.tracks if not track.is_drum for n in track.notes]
    end = max((n.time + n.duration for n in notes), default=0)
    samples = np.zeros(int(np.ceil((end + RELEASE_SECONDS) * sample_rate)), np.float32)
    for n in notes:
        held = n.duration
        t = np.arange(int((held + RELEASE_SECONDS) * sample_rate)) / sample_rate
        envelope = (np.minimum(1, t / ATTACK_SECONDS) * np.exp(-DECAY_PER_SECOND * t)
                    * np.clip((held + RELEASE_SECONDS - t) / RELEASE_SECONDS, 0, 1))
        frequency = 440.0 * 2 ** ((n.pitch - 69) / 12)
        tone = sum(a * np.sin(2 * np.pi * k * frequency * t)
                   for k, a in enumerate(PARTIALS, 1) if k * frequency < sample_rate / 2)
        start = int(round(n.time * sample_rate))
        samples[start:start + len(t)] += (n.velocity / 127 * envelope * tone)[:len(samples) - start]
    peak = np.abs(samples).max(initial=0)
    return samples * (0.8 / peak) if peak > 0 else samples


def audio_waveform(tokens: Sequence[str], metadata: dict, sample_rate: int = 16000) -> np.ndarray:
    """The built-in synthesiser's rendering of `tokens`, `[samples]` float32."""
    return synthesise(tokenizer.decode(tokens, metadata), sample_rate)


def write_wav(path: str, samples: np.ndarray, sample_rate: int) -> None:
    """16-bit mono WAV, written atomically."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    atomic_write(path, buffer.getvalue())


def render_audio(midi_path: str, wav_path: str, sample_rate: int = 44100) -> str:
    """Renders a MIDI file to WAV; returns the renderer used, ``fluidsynth`` or ``built-in``."""
    if shutil.which("fluidsynth") and os.path.exists(SOUNDFONT):
        with tempfile.TemporaryDirectory() as directory:
            rendered = os.path.join(directory, "audio.wav")
            result = subprocess.run(["fluidsynth", "-ni", "-q", "-F", rendered, "-r",
                                     str(sample_rate), SOUNDFONT, midi_path], capture_output=True)
            if result.returncode == 0 and os.path.exists(rendered):
                with open(rendered, "rb") as f:
                    atomic_write(wav_path, f.read())
                return "fluidsynth"
        print(f"warning: fluidsynth failed on {midi_path} ({result.stderr.decode()[-200:]!r}); "
              "using the built-in synthesiser", file=sys.stderr)
    score = scores.read_score(midi_path)
    if not score.note_num():  # a generated piece may hold no note
        print(f"warning: {midi_path} has no notes; {wav_path} is silent", file=sys.stderr)
    write_wav(wav_path, synthesise(score, sample_rate), sample_rate)
    return "built-in"


# ---- pictures ------------------------------------------------------------------------------
def piano_roll_image(tokens: Sequence[str], metadata: dict) -> np.ndarray:
    """The piano roll of `tokens`, `[height, width, 3]` uint8 RGB (see the module docstring)."""
    return notes_piano_roll_image(tokenizer.decode(tokens, metadata))


def notes_piano_roll_image(score: symusic.Score) -> np.ndarray:
    """The piano roll of the pitched notes of `score`, `[height, width, 3]` uint8 RGB, a bar
    line every measure of its first time signature (4/4 when it has none)."""
    grid = score.resample(GRID, min_dur=1)
    notes = [n for track in grid.tracks if not track.is_drum for n in track.notes]
    low = min([PIANO_KEYS[0]] + [n.pitch for n in notes])
    high = max([PIANO_KEYS[1]] + [n.pitch for n in notes])
    end = max((n.time + n.duration for n in notes), default=1)
    ticks_per_column = max(GRID // 4, -(-end // MAX_WIDTH))
    width = -(-end // ticks_per_column)
    image = np.full(((high - low + 1) * ROWS_PER_PITCH, width, 3), BACKGROUND, np.uint8)
    for pitch in range(low, high + 1):
        if pitch % 12 == 0:
            image[(high - pitch + 1) * ROWS_PER_PITCH - 1] = GUIDE
    if grid.time_signatures:
        first = grid.time_signatures[0]
        numerator, denominator = first.numerator, first.denominator
    else:
        numerator, denominator = map(int, DEFAULT_TIME_SIGNATURE.split("/"))
    bar = numerator * 4 * GRID // denominator
    image[:, ::max(1, bar // ticks_per_column)] = GUIDE
    for n in notes:
        top = (high - n.pitch) * ROWS_PER_PITCH
        first, last = n.time // ticks_per_column, (n.time + n.duration - 1) // ticks_per_column
        image[top:top + ROWS_PER_PITCH, first:last + 1] = NOTE
        image[top:top + ROWS_PER_PITCH, first] = ONSET
    return image


def draw_piano_roll(tokens: Sequence[str], metadata: dict, png_path: str) -> None:
    """Writes the piano roll of `tokens` as a PNG file."""
    write_png(png_path, piano_roll_image(tokens, metadata))


def draw_notes_piano_roll(score: symusic.Score, png_path: str) -> None:
    """Writes the piano roll of `score` as a PNG file."""
    write_png(png_path, notes_piano_roll_image(score))
