"""Dynamics: how loud each note of a solo is, by where in the bar it starts.

A soloist accents the beat: the downbeat and the beats speak louder than the off-beat eighths
between them, and no two notes are quite alike. At extraction, `measure_dynamics` records the
training solo's mean velocity at each eighth-note position of the bar (`POSITIONS_PER_QUARTER`
per quarter note) and the spread of its velocities around those means; realising,
`NoteLoudness` gives each note the mean of its position plus a random deviation of that spread.

A training solo that holds one velocity throughout (notation, most lead sheets: music21 writes
them all at 90) has no accents to carry; neither does a vocabulary built without dynamics. Then
`accent_pattern` shapes the solo around its own level: `ACCENT` above on the downbeat, half of
it on the other beats, `OFFBEAT` below between them, with a spread of `FLAT_SPREAD`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Iterable

import numpy as np

POSITIONS_PER_QUARTER = 2  # eighth notes: where swing puts its accents
ACCENT, OFFBEAT = 12, -8  # velocities above and below the level, on the accent model's beats
FLAT_SPREAD = 4.0  # the accent model's random deviation (a standard deviation, in velocity)
FLAT_BELOW = 2.0  # a solo whose velocities spread less than this holds no dynamics of its own


def positions(measure_length: Fraction | float) -> int:
    """The eighth-note positions of a bar of `measure_length` quarter notes (at least one)."""
    return max(1, int(round(float(measure_length) * POSITIONS_PER_QUARTER)))


def position_of(offset: Fraction | float, measure_length: Fraction | float) -> int:
    """The position of a note starting `offset` quarter notes after its bar line."""
    count = positions(measure_length)
    return min(count - 1, max(0, int(float(offset) * POSITIONS_PER_QUARTER)))


def accent_pattern(measure_length: Fraction | float, level: float) -> list[float]:
    """Mean velocities by position around `level`: downbeat, other beats, off-beats."""
    return [level + (ACCENT if p == 0 else ACCENT / 2 if p % POSITIONS_PER_QUARTER == 0
                     else OFFBEAT) for p in range(positions(measure_length))]


def measure_dynamics(notes: Iterable[tuple[Fraction, int]], measure_length: Fraction) -> dict:
    """The dynamics of a solo, for the vocabulary's metadata, from its notes as (offset after
    their bar line in quarter notes, velocity): ``{"by_position": [mean velocity of each eighth
    of the bar], "spread": ..., "source": "solo"}``, or the accent model around the solo's level
    (``"source": "accents"``) when its velocities do not vary."""
    offsets_velocities = [(position_of(offset, measure_length), velocity)
                          for offset, velocity in notes]
    velocities = np.array([v for _, v in offsets_velocities], np.float64)
    level = float(velocities.mean()) if len(velocities) else 90.0
    if len(velocities) < 2 or velocities.std() < FLAT_BELOW:
        return {"by_position": [round(v, 1) for v in accent_pattern(measure_length, level)],
                "spread": FLAT_SPREAD, "source": "accents"}
    by_position = []
    for p in range(positions(measure_length)):
        here = [v for q, v in offsets_velocities if q == p]
        by_position.append(float(np.mean(here)) if here else level)  # no note there: the level
    residuals = [v - by_position[p] for p, v in offsets_velocities]
    return {"by_position": [round(v, 1) for v in by_position],
            "spread": round(float(np.std(residuals)), 2), "source": "solo"}


class NoteLoudness:
    """Velocities for a realised solo's notes, from recorded dynamics (or, without them, the
    accent model around `level`)."""

    def __init__(self, dynamics: dict | None, measure_length: Fraction, level: int,
                 rng: np.random.Generator):
        if dynamics is None or len(dynamics["by_position"]) != positions(measure_length):
            # None recorded, or recorded for another meter than the chords typed.
            dynamics = {"by_position": accent_pattern(measure_length, level),
                        "spread": FLAT_SPREAD}
        self.by_position, self.spread = dynamics["by_position"], dynamics["spread"]
        self.measure_length, self.rng = measure_length, rng

    def velocity(self, offset: Fraction) -> int:
        """The velocity of a note starting `offset` quarter notes after its bar line: 1 to 127."""
        mean = self.by_position[position_of(offset, self.measure_length)]
        return int(np.clip(round(mean + self.rng.normal(0.0, self.spread)), 1, 127))
