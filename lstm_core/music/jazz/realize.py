"""Realisation: generated grammar tokens become a concrete solo over a chord progression.

Tokens are laid one after another from the first beat. Each note takes a pitch of its class
(`grammar.classify`) under the chord sounding when it starts: chord tones from the chord, scale
tones from the chord's scale, approach tones a semitone from a chord tone, others from what is
left. Among those, it keeps to the token's interval from the previous note, the playable
`pitch_range`, leaps of at most `max_leap`, and does not repeat the previous pitch sooner than
`min_repeat_distance`; a random choice (from the caller's generator) picks among what remains.
Where a chord has no pitch of a class (most seventh chords leave no ``X``), the nearest class in
`FALLBACK` is used. The last note or rest of a measure is cut at the bar line and a measure the
tokens do not fill ends in silence, so no note crosses a bar line and each measure starts on
time. Tokens that do not parse (the unknown token, anything else a sampler may produce) are
skipped. Velocities follow the training solo's dynamics by position in the bar (`dynamics`).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Iterable

import numpy as np
import symusic

from lstm_core.files import atomic_write
from lstm_core.music.constants import DEFAULT_TEMPO, JAZZ_GUITAR, PIANO, TICKS_PER_QUARTER
from lstm_core.music.jazz.chords import (Chord, Progression, chord_finder, chord_timeline,
                                         measure_beats)
from lstm_core.music.jazz.dynamics import NoteLoudness
from lstm_core.music.jazz.extract import CHORDS_PART, SOLO_PART, ticks
from lstm_core.music.jazz.grammar import SHORTEST_DURATION, Element, classify, parse_token

SOLO_VELOCITY, CHORD_VELOCITY = 96, 72  # the solo stands out over its accompaniment (the
# solo's level without recorded dynamics)
FALLBACK = {"C": ("C",), "S": ("S", "C"), "A": ("A", "S", "C"), "X": ("X", "A", "S", "C")}
"""The classes a note may take, in order, when its chord has no pitch of the one asked for."""
PITCH_RANGE = (55, 84)
"""G3 to C6: comfortable for a guitar or a tenor saxophone."""
MAX_LEAP = 12
MIN_REPEAT_DISTANCE = Fraction(1, 2)  # quarter notes
FIRST_NOTE_SPREAD = 6
"""The first note lies within this many semitones of the middle of the range."""
FREE_STEP = 7
"""A note without interval bounds moves at most this many semitones (when it can)."""


Solo = list[symusic.Note]
"""A solo's notes in order, in ticks at `TICKS_PER_QUARTER` from its start; its rests are the
gaps between them."""


def realize_solo(tokens: Iterable[str], progression: Progression, rng: np.random.Generator,
                 pitch_range: tuple[int, int] = PITCH_RANGE, max_leap: int = MAX_LEAP,
                 min_repeat_distance: Fraction = MIN_REPEAT_DISTANCE,
                 dynamics: dict | None = None) -> Solo:
    """The solo the tokens describe over `progression`, deterministic given `rng`'s state.

    Each note's velocity follows `dynamics` (the vocabulary metadata's ``dynamics``: the training
    solo's loudness by position in the bar), or the accent model of `lstm_core.music.jazz.
    dynamics` without it; its random deviations come from a generator spawned from `rng`, so the
    pitches are those the same `rng` gives without dynamics.

    `tokens` is consumed only as far as the progression needs, so it may be a generator that
    samples on demand; a list should hold `tokens_needed` tokens or more (extra ones are unused).
    """
    elements = (e for e in map(parse_token, tokens) if e is not None)
    chord_at = chord_finder(progression)
    loudness = NoteLoudness(dynamics, measure_beats(progression[0]) if progression else
                            Fraction(4), SOLO_VELOCITY, rng.spawn(1)[0])
    solo: Solo = []
    previous: symusic.Note | None = None
    position, bar_line = 0, Fraction(0)  # ticks; the next bar line in quarter notes, exact
    for measure in progression:
        bar_line += measure_beats(measure)
        measure_end = ticks(bar_line)
        while position < measure_end:
            element = next(elements, None)
            if element is None:  # out of tokens: the rest of the measure is silent
                break
            length = min(ticks(element.duration), measure_end - position)
            if not element.is_rest:
                chord = chord_at(Fraction(position, TICKS_PER_QUARTER))
                pitch = _choose_pitch(element, chord, previous, position, rng, pitch_range,
                                      max_leap, min_repeat_distance)
                offset = Fraction(position, TICKS_PER_QUARTER) - bar_line + measure_beats(measure)
                previous = symusic.Note(position, length, pitch, loudness.velocity(offset))
                solo.append(previous)
            position += length
        position = measure_end
    return solo


def tokens_needed(progression: Progression, mean_duration: float) -> int:
    """How many tokens to sample for `realize_solo` to fill the progression, with a margin.

    `mean_duration` is the corpus' mean token length in quarter notes (the vocabulary
    metadata's ``mean_duration``).
    """
    quarters = sum(map(measure_beats, progression), Fraction(0))
    return math.ceil(float(quarters) / max(mean_duration, float(SHORTEST_DURATION)) * 1.5) + 8


def _choose_pitch(element: Element, chord: Chord, previous: symusic.Note | None, time: int,
                  rng: np.random.Generator, pitch_range: tuple[int, int], max_leap: int,
                  min_repeat_distance: Fraction) -> int:
    """A pitch of the element's class (or its fallback) that moves as the element says, for a
    note starting at tick `time`."""
    candidates = list(range(pitch_range[0], pitch_range[1] + 1))
    if previous is not None:
        candidates = [p for p in candidates if abs(p - previous.pitch) <= max_leap]
    by_kind: dict[str, list[int]] = {}
    for p in candidates:  # each classified once, kept in ascending order
        by_kind.setdefault(classify(p, chord), []).append(p)
    fitting = next((by_kind[kind] for kind in FALLBACK[element.kind] if kind in by_kind),
                   candidates)
    if previous is not None and time - previous.time < min_repeat_distance * TICKS_PER_QUARTER:
        fitting = [p for p in fitting if p != previous.pitch] or fitting
    distances = [_distance(p, element, previous, pitch_range) for p in fitting]
    nearest = min(distances)
    closest = [p for p, d in zip(fitting, distances) if d == nearest]
    return int(rng.choice(closest))


def _distance(pitch: int, element: Element, previous: symusic.Note | None,
              pitch_range: tuple[int, int]) -> int:
    """How far `pitch` is from where the element wants it (0: where it belongs)."""
    if previous is None:
        middle = (pitch_range[0] + pitch_range[1]) // 2
        return max(abs(pitch - middle) - FIRST_NOTE_SPREAD, 0)
    step = pitch - previous.pitch
    if element.interval is None:
        return max(abs(step) - FREE_STEP, 0)
    low, high = element.interval
    return max(low - step, step - high, 0)


# ---- the MIDI file ----------------------------------------------------------------------------
def write_jazz_midi(solo: Solo, progression: Progression, path: str, tempo: float = DEFAULT_TEMPO,
                    solo_program: int = JAZZ_GUITAR, chord_program: int = PIANO) -> None:
    """Writes the `solo_score` of the solo and its chords as a MIDI file, atomically."""
    atomic_write(path, solo_score(solo, progression, tempo, solo_program,
                                  chord_program).dumps_midi())


def solo_score(solo: Solo, progression: Progression, tempo: float = DEFAULT_TEMPO,
               solo_program: int = JAZZ_GUITAR, chord_program: int = PIANO) -> symusic.Score:
    """A Score of two tracks: ``Solo`` (General MIDI `solo_program`, jazz guitar by default;
    `constants.TENOR_SAX` or `ALTO_SAX` also suit) and ``Chords``, the progression voiced for
    piano: the bass an octave below, the chord tones closely above E3. The names
    (`extract.SOLO_PART`, `extract.CHORDS_PART`) tell `extract` which part is the solo when its
    MIDI file is read back."""
    score = symusic.Score(TICKS_PER_QUARTER)
    score.tempos.append(symusic.Tempo(0, tempo))
    quarters = Fraction(measure_beats(progression[0]) if progression else 4)
    denominator = 4 if quarters.denominator == 1 else 8
    score.time_signatures.append(symusic.TimeSignature(0, int(quarters * denominator / 4),
                                                       denominator))
    solo_track = symusic.Track(SOLO_PART, program=solo_program)
    solo_track.notes.extend(solo)
    chords_track = symusic.Track(CHORDS_PART, program=chord_program)
    for begin, end, chord in chord_timeline(progression):
        for pitch in voicing(chord):
            chords_track.notes.append(symusic.Note(ticks(begin), ticks(end - begin), pitch,
                                                   CHORD_VELOCITY))
    score.tracks.extend([solo_track, chords_track])
    return score


def voicing(chord: Chord) -> list[int]:
    """MIDI pitches for the chord on a piano: bass in C2-B2, chord tones from E3 up an octave."""
    upper = sorted({52 + (chord.root + i - 52) % 12 for i in chord.quality.intervals})
    return [36 + chord.bass % 12] + upper
