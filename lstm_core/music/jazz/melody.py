"""A melody line: one note or rest at a time, on an exact quarter-note grid."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable

from lstm_core.music import constants

GRID = Fraction(1, constants.GRID)
"""Onsets and durations are rounded to twelfths of a quarter (the grid every music module compares
notes on): sixteenths and triplets both fit."""


@dataclass(frozen=True)
class Note:
    """A note (MIDI pitch) or a rest (pitch None), with its start and length in quarter notes."""

    offset: Fraction
    duration: Fraction
    pitch: int | None

    @property
    def is_rest(self) -> bool:
        return self.pitch is None

    @property
    def end(self) -> Fraction:
        return self.offset + self.duration


def quantize(quarters: float | Fraction) -> Fraction:
    """`quarters` rounded to the nearest multiple of `GRID`."""
    return Fraction(round(Fraction(quarters) / GRID)) * GRID


def monophonic_line(sounds: Iterable[tuple[float, float, int]],
                    start: Fraction | None = None) -> list[Note]:
    """One line from possibly overlapping ``(offset, duration, pitch)`` sounds, rests filled in.

    Onsets are quantised to `GRID`; of the sounds starting together the highest is kept (two
    voices merge into their top line), each note ends at the next onset at the latest, and gaps
    become rests. The line starts at `start` (a rest leads in) or at the first onset.
    """
    highest: dict[Fraction, tuple[Fraction, int]] = {}
    for offset, duration, pitch in sounds:
        onset, length = quantize(offset), max(quantize(duration), GRID)
        if onset not in highest or pitch > highest[onset][1]:
            highest[onset] = (length, pitch)
    onsets = sorted(highest)
    line: list[Note] = []
    position = onsets[0] if onsets and start is None else start
    for i, onset in enumerate(onsets):
        length, pitch = highest[onset]
        if onset > position:
            line.append(Note(position, onset - position, None))
        following = onsets[i + 1] if i + 1 < len(onsets) else onset + length
        line.append(Note(onset, min(length, following - onset), pitch))
        position = line[-1].end
    return line
