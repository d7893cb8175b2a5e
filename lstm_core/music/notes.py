"""The `notes` encoding of the tutorial piano generators, kept as the baseline to compare with.

Every onset becomes one token: a lone note is its pitch name with octave (``E5``, ``C#4``,
``B-3``); notes starting together are a chord, the dotted pitch classes of its normal order
(``4.7.11``), octaves lost. Onsets are read on the `GRID`; drums are left out.
Rhythm, velocity and instruments are lost too: decoding writes one piano event every eighth
note, each lasting an eighth at `VELOCITY`, chords in the octave above middle C. Boundaries and
unknown tokens are skipped.
"""

from __future__ import annotations

import functools
import itertools
from typing import Sequence

import symusic
from music21 import chord, pitch
from music21.exceptions21 import Music21Exception

from lstm_core.music.constants import DEFAULT_TEMPO, GRID

STEP = GRID // 2
CHORD_OCTAVE_BASE = 60
VELOCITY = 80


def encode(score: symusic.Score) -> list[str]:
    """One token per distinct onset of the pitched notes of `score`."""
    grid = score.resample(GRID, min_dur=1)
    notes = sorted((n.time, n.pitch) for track in grid.tracks if not track.is_drum
                   for n in track.notes)
    return [_token(tuple(sorted({p for _, p in group})))
            for _, group in itertools.groupby(notes, key=lambda n: n[0])]


@functools.lru_cache(maxsize=None)  # the same notes and chords come back again and again
def _token(pitches: tuple[int, ...]) -> str:
    if len(pitches) == 1:
        return pitch.Pitch(midi=pitches[0]).nameWithOctave
    # Pitch objects, not ints: from ints music21 respells the chord first, 100 times slower.
    return ".".join(str(pc) for pc in chord.Chord([pitch.Pitch(midi=p) for p in pitches])
                    .normalOrder)


def decode(tokens: Sequence[str]) -> symusic.Score:
    """A one-piano Score of `tokens`, one event every `STEP` ticks."""
    score = symusic.Score(GRID)
    score.tempos.append(symusic.Tempo(0, DEFAULT_TEMPO))
    score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    track = symusic.Track("Acoustic Grand Piano", program=0)
    onset = 0
    for token in tokens:
        pitches = pitches_of(token)
        for p in pitches:
            track.notes.append(symusic.Note(onset, STEP, p, VELOCITY))
        onset += STEP if pitches else 0
    score.tracks.append(track)
    return score


@functools.lru_cache(maxsize=None)
def pitches_of(token: str) -> tuple[int, ...]:
    """MIDI pitches of a token, or () when it is not a note or chord token."""
    if token[:1].isdigit():
        try:
            return tuple(CHORD_OCTAVE_BASE + int(pc) % 12 for pc in token.split("."))
        except ValueError:
            return ()
    try:
        midi = pitch.Pitch(token).midi
    except (Music21Exception, ValueError):
        return ()
    return (midi,) if 0 <= midi <= 127 else ()
