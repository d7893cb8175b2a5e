"""The `notes` encoding of the prior piano generators, kept because users know its tokens.

Every onset becomes one token: a lone note is its pitch name with octave (``E5``, ``C#4``,
``B-3``); notes starting together are a chord, the dotted pitch classes of its normal order
(``4.7.11``), octaves lost. Rhythm is lost too: decoding puts one event every `STEP` ticks (an
eighth note), each lasting one step, chords in the octave above middle C. Boundaries and unknown
tokens are skipped.
"""

from __future__ import annotations

import functools
import itertools
from typing import Sequence

from music21 import chord, pitch
from music21.exceptions21 import Music21Exception

from lstm_core.music.events import TICKS_PER_QUARTER, Note

STEP = TICKS_PER_QUARTER // 2
CHORD_OCTAVE_BASE = 60


def encode(notes: Sequence[Note]) -> list[str]:
    """One token per distinct onset of `notes`."""
    groups = itertools.groupby(sorted(notes, key=lambda n: n.onset), key=lambda n: n.onset)
    return [_token(tuple(sorted({n.pitch for n in group}))) for _, group in groups]


@functools.lru_cache(maxsize=None)  # the same notes and chords come back again and again
def _token(pitches: tuple[int, ...]) -> str:
    if len(pitches) == 1:
        return pitch.Pitch(midi=pitches[0]).nameWithOctave
    # Pitch objects, not ints: from ints music21 respells the chord first, 100 times slower.
    return ".".join(str(pc) for pc in chord.Chord([pitch.Pitch(midi=p) for p in pitches])
                    .normalOrder)


def decode(tokens: Sequence[str]) -> list[Note]:
    """The notes of `tokens`, one event every `STEP` ticks."""
    notes = []
    onset = 0
    for token in tokens:
        pitches = _pitches(token)
        notes.extend(Note(p, onset, STEP) for p in pitches)
        onset += STEP if pitches else 0
    return notes


def _pitches(token: str) -> list[int]:
    """MIDI pitches of a token, or [] when it is not a note or chord token."""
    if token[:1].isdigit():
        try:
            return [CHORD_OCTAVE_BASE + int(pc) % 12 for pc in token.split(".")]
        except ValueError:
            return []
    try:
        midi = pitch.Pitch(token).midi
    except (Music21Exception, ValueError):
        return []
    return [midi] if 0 <= midi <= 127 else []
