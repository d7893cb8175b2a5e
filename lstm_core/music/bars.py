"""Bars of a Score by its time signatures: where they start, how many a piece has, an excerpt.

A bar lasts ``numerator * 4 / denominator`` quarters of the time signature in effect where it
starts (4/4 before the first signature, as MIDI assumes); a signature that falls inside a bar
starts a new bar there. Bars run on past the last note, so a piece may be measured over more
bars than its notes reach: trailing silence then counts as empty bars.
"""

from __future__ import annotations

import numpy as np
import symusic


def bar_lines(score: symusic.Score, count: int | None = None) -> np.ndarray:
    """The ticks `[bars + 1]` where each bar starts, then where the last one ends: `count` bars
    from tick 0, or (None) every bar begun before the score ends."""
    signatures = sorted(score.time_signatures, key=lambda s: s.time)
    end = score.end()
    lines, tick = [], 0
    while (len(lines) < count) if count is not None else (tick < end or not lines):
        lines.append(tick)
        in_effect = [s for s in signatures if s.time <= tick]
        numerator, denominator = ((in_effect[-1].numerator, in_effect[-1].denominator)
                                  if in_effect else (4, 4))
        following = [s.time for s in signatures if s.time > tick]
        tick = min([tick + score.tpq * 4 * numerator // denominator] + following)
    return np.array(lines + [tick], dtype=np.int64)


def bar_count(score: symusic.Score) -> int:
    """The bars `score` has begun before its last note ends (at least one)."""
    return len(bar_lines(score)) - 1


def excerpt(score: symusic.Score, first_bar: int, count: int) -> symusic.Score:
    """Bars `first_bar` to `first_bar + count` of `score` as a Score of its own, starting at
    tick 0 with the tempo and meter in effect there; notes and pedals sounding at its end end
    there."""
    lines = bar_lines(score, first_bar + count)
    start, end = int(lines[first_bar]), int(lines[-1])
    cut = score.clip(start, end).shift_time(-start)
    for track in cut.tracks:
        for event in list(track.notes) + list(track.pedals):
            event.duration = min(event.duration, end - start - event.time)
    cut.tracks = [t for t in cut.tracks if t.notes]
    return cut


def first_bars(score: symusic.Score, count: int) -> symusic.Score:
    """The first `count` bars of `score` (`excerpt`, cut at the tick of bar line `count`);
    `score` itself when `count` is 0 or not less than its `bar_count`."""
    if count == 0 or count >= bar_count(score):
        return score
    return excerpt(score, 0, count)
