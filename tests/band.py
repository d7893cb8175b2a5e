"""Synthetic band arrangements as symusic Scores: piano chords, a bass line, a guitar arpeggio and
a drum kit (kick, snare, hi-hat on MIDI channel 10), in a random major key and tempo, with
varied velocities and sustain pedal on the piano.

    python tests/band.py OUTPUT_DIR [--files N] [--bars B]   # writes OUTPUT_DIR/band_000.mid ...
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import symusic

TICKS_PER_QUARTER = 480
BAR = 4 * TICKS_PER_QUARTER
PROGRESSION = (0, 5, 7, 0, 9, 5, 7, 0)  # I IV V I vi IV V I, as semitones above the tonic
MAJOR = (0, 2, 4, 5, 7, 9, 11)
PIANO, GUITAR, BASS = 0, 24, 33  # General MIDI programs
KICK, SNARE, HIHAT = 36, 38, 42  # General MIDI drum keys


def triad(root: int) -> list[int]:
    """The diatonic triad of C major on `root` (a pitch class of the scale), as offsets."""
    degree = MAJOR.index(root % 12)
    return [MAJOR[(degree + step) % 7] + 12 * ((degree + step) // 7) for step in (0, 2, 4)]


def band_score(bars: int = 8, seed: int = 0) -> symusic.Score:
    rng = np.random.default_rng(seed)
    tonic = int(rng.integers(0, 12))
    score = symusic.Score(TICKS_PER_QUARTER)
    score.tempos.append(symusic.Tempo(0, float(rng.integers(90, 141))))
    score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    piano = symusic.Track(name="Acoustic Grand Piano", program=PIANO)
    guitar = symusic.Track(name="Acoustic Guitar (nylon)", program=GUITAR)
    bass = symusic.Track(name="Electric Bass (finger)", program=BASS)
    drums = symusic.Track(name="Drums", program=0, is_drum=True)

    def velocity(low: int, high: int) -> int:
        return int(rng.integers(low, high))

    for bar in range(bars):
        start = bar * BAR
        chord = [48 + tonic + offset for offset in triad(PROGRESSION[bar % len(PROGRESSION)])]
        piano.pedals.append(symusic.Pedal(start, BAR - 60))
        for beat in range(4):
            time = start + beat * TICKS_PER_QUARTER
            accent = 20 if beat in (0, 2) else 0
            for pitch in chord:
                piano.notes.append(symusic.Note(time, 400, pitch + 12, velocity(45, 80) + accent))
            bass.notes.append(symusic.Note(time, 420, chord[0] - 12 if beat % 2 == 0
                                           else chord[2] - 24, velocity(70, 100) + accent))
            for half in range(2):
                arpeggio = chord[(2 * beat + half) % 3] + 24
                guitar.notes.append(symusic.Note(time + half * 240, 220, arpeggio,
                                                 velocity(40, 90)))
                drums.notes.append(symusic.Note(time + half * 240, 60, HIHAT, velocity(30, 80)))
            drums.notes.append(symusic.Note(time, 120, KICK if beat % 2 == 0 else SNARE,
                                            velocity(90, 127)))
    score.tracks.extend([piano, guitar, bass, drums])
    return score


def band_folder(path: Path, pieces: int = 2, bars: int = 8) -> Path:
    """`path`/songs holding `pieces` band pieces of `bars` bars (seeds 0, 1, ...): a corpus."""
    songs = path / "songs"
    songs.mkdir()
    for seed in range(pieces):
        band_score(bars=bars, seed=seed).dump_midi(str(songs / f"band{seed}.mid"))
    return songs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir")
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--bars", type=int, default=16)
    args = parser.parse_args()
    os.makedirs(args.output_dir, exist_ok=True)
    for n in range(args.files):
        band_score(args.bars, seed=n).dump_midi(os.path.join(args.output_dir, f"band_{n:03}.mid"))
    print(f"wrote {args.files} files of {args.bars} bars to {args.output_dir}")


if __name__ == "__main__":
    main()
