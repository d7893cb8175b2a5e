"""The `events` encoding: a piece as notes and time shifts on a grid of 12 ticks per quarter note.

A piece is a list of `Note`s: MIDI pitch (60 = middle C), onset and duration in grid ticks. Its
tokens, in time order:

- ``n{pitch}_d{ticks}`` — a note starts now, e.g. ``n60_d12`` is middle C for a quarter note.
- ``wait_{ticks}`` — time moves on, 1 to 48 ticks (a 4/4 bar); longer gaps repeat it.
- ``<piece>`` — a piece boundary (see `BOUNDARY`); the corpus puts one before every piece.

Notes between two waits start together: a chord, written in ascending pitch with its octaves.
Rests are waits during which no note sounds; a tie is one longer note (ties are merged before
encoding). Twelve ticks per quarter hold sixteenths (3), eighth triplets (4) and sixteenth
triplets (2), so onsets on those grids are exact. Durations are exact to the tick up to a half
note, to the sixteenth up to two whole notes, to the quarter up to four whole notes; longer notes
are cut to four whole notes. That keeps the vocabulary to at most 128 × 56 note tokens (about
1,800 on a piano corpus) plus 48 waits. Velocity, pedal and tempo changes are not encoded.

The decoder takes any token order a sampler produces: a note before any wait starts at time 0,
an unknown or malformed token is skipped, and a boundary moves time past every sounding note.
"""

from __future__ import annotations

import bisect
import re
from typing import NamedTuple, Sequence

TICKS_PER_QUARTER = 12
MAX_WAIT = 4 * TICKS_PER_QUARTER
BOUNDARY = "<piece>"
# Exact to the tick up to 2 quarters, then to the sixteenth up to 8, then to the quarter up to 16.
DURATIONS = (tuple(range(1, 2 * TICKS_PER_QUARTER + 1))
             + tuple(range(27, 8 * TICKS_PER_QUARTER + 1, TICKS_PER_QUARTER // 4))
             + tuple(range(9 * TICKS_PER_QUARTER, 16 * TICKS_PER_QUARTER + 1, TICKS_PER_QUARTER)))

_NOTE = re.compile(r"n(\d{1,3})_d(\d{1,4})")
_WAIT = re.compile(r"wait_(\d{1,4})")


class Note(NamedTuple):
    """A sounding note: MIDI pitch 0-127, onset and duration in grid ticks (duration ≥ 1)."""
    pitch: int
    onset: int
    duration: int


def quantise_duration(ticks: int) -> int:
    """The allowed duration (`DURATIONS`) nearest to `ticks`; ties go to the shorter one."""
    i = bisect.bisect_left(DURATIONS, ticks)
    if i == 0:
        return DURATIONS[0]
    if i == len(DURATIONS):
        return DURATIONS[-1]
    below, above = DURATIONS[i - 1], DURATIONS[i]
    return above if above - ticks < ticks - below else below


def is_note(token: str) -> bool:
    return _NOTE.fullmatch(token) is not None


def is_wait(token: str) -> bool:
    return _WAIT.fullmatch(token) is not None


def playable(notes: Sequence[Note]) -> list[Note]:
    """`notes` sorted by onset and pitch as one piano plays them: a key struck again while it
    sounds ends at the new onset, and of two notes struck together the longer one stays."""
    longest: dict[tuple[int, int], int] = {}
    for note in notes:
        longest[note.onset, note.pitch] = max(longest.get((note.onset, note.pitch), 0),
                                              note.duration)
    struck_next: dict[int, int] = {}  # pitch → onset of its next strike
    result = []
    for (onset, pitch), duration in sorted(longest.items(), reverse=True):
        result.append(Note(pitch, onset, min(duration, struck_next.get(pitch, onset + duration)
                                             - onset)))
        struck_next[pitch] = onset
    return result[::-1]


def encode(notes: Sequence[Note]) -> list[str]:
    """The tokens of one piece (no boundary), of its `playable` notes."""
    tokens: list[str] = []
    time = 0
    for note in playable(notes):
        gap = note.onset - time
        while gap > 0:
            tokens.append(f"wait_{min(gap, MAX_WAIT)}")
            gap -= MAX_WAIT
        time = note.onset
        tokens.append(f"n{note.pitch}_d{quantise_duration(note.duration)}")
    return tokens


def timeline(tokens: Sequence[str]) -> list[tuple[int, Note | None]]:
    """For each token, the time in ticks it stands at (for a wait, the time after it) and the
    note it starts, if any; tolerates any order (see the module docstring)."""
    result: list[tuple[int, Note | None]] = []
    time = end = 0
    for token in tokens:
        note = None
        if token == BOUNDARY:
            time = max(time, end)
        elif (wait := _WAIT.fullmatch(token)) is not None:
            time += int(wait.group(1))
        elif (match := _NOTE.fullmatch(token)) is not None:
            pitch, duration = int(match.group(1)), int(match.group(2))
            if pitch <= 127 and duration > 0:
                note = Note(pitch, time, duration)
                end = max(end, time + duration)
        result.append((time, note))
    return result


def decode(tokens: Sequence[str]) -> list[Note]:
    """The notes of `tokens`, tolerating any order; see the module docstring."""
    return [note for _, note in timeline(tokens) if note is not None]
