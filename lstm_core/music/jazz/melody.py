"""A realised solo's notes and rests (`realize`), on an exact quarter-note grid."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from lstm_core.music import constants

GRID = Fraction(1, constants.GRID)
"""Durations are multiples of twelfths of a quarter (sixteenths and triplets both fit)."""


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
