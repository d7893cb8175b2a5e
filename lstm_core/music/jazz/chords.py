"""Chords: symbols in the usual spellings, their pitch classes, and the scale a soloist uses.

A chord symbol is a root (``A``-``G`` with an optional ``#`` or ``b``), a quality suffix from
`SUFFIXES` (``m7``, ``maj7``, ``m7b5``, ``dim7``, ``9``, ...) and an optional slash bass
(``C/E``). Each quality names its chord tones and a matching scale (dominant → Mixolydian,
minor seventh → Dorian, half-diminished → Locrian, ...), which the jazz grammar uses to tell
chord tones from scale tones.

A progression is what a user types: measures separated by ``|``, chords within a measure
separated by spaces and sharing it evenly, as in ``"Dm7 G7 | Cmaj7 | A7"``. Durations are in
quarter notes (``beats`` of a 4/4 measure), kept as exact fractions so that measures add up.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Callable, Sequence

from lstm_core.errors import UsageError
from lstm_core.limits import require_solo_bars

CHORUS_BARS = 32
"""Without a progression given, a solo is played over at most this many measures of the training
progression: a chorus of the 32-bar song form (a whole folder of standards runs to hundreds)."""
NOTE_NAMES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
# How a detected root is spelled: the usual jazz spelling of each pitch class.
ROOT_SPELLINGS = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

SCALES: dict[str, tuple[int, ...]] = {
    "ionian": (0, 2, 4, 5, 7, 9, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
    "melodic minor": (0, 2, 3, 5, 7, 9, 11),
    "whole-half diminished": (0, 2, 3, 5, 6, 8, 9, 11),
    "half-whole diminished": (0, 1, 3, 4, 6, 7, 9, 10),
    "whole tone": (0, 2, 4, 6, 8, 10),
}


@dataclass(frozen=True)
class Quality:
    """A chord quality: its canonical suffix, chord tones above the root, and its scale."""

    suffix: str
    intervals: tuple[int, ...]
    scale: str


QUALITIES: dict[str, Quality] = {q.suffix: q for q in (
    Quality("", (0, 4, 7), "ionian"),
    Quality("m", (0, 3, 7), "dorian"),
    Quality("dim", (0, 3, 6), "whole-half diminished"),
    Quality("aug", (0, 4, 8), "whole tone"),
    Quality("sus4", (0, 5, 7), "mixolydian"),
    Quality("sus2", (0, 2, 7), "ionian"),
    Quality("6", (0, 4, 7, 9), "ionian"),
    Quality("m6", (0, 3, 7, 9), "dorian"),
    Quality("69", (0, 4, 7, 9, 2), "ionian"),
    Quality("7", (0, 4, 7, 10), "mixolydian"),
    Quality("maj7", (0, 4, 7, 11), "ionian"),
    Quality("m7", (0, 3, 7, 10), "dorian"),
    Quality("mmaj7", (0, 3, 7, 11), "melodic minor"),
    Quality("m7b5", (0, 3, 6, 10), "locrian"),
    Quality("dim7", (0, 3, 6, 9), "whole-half diminished"),
    Quality("7sus4", (0, 5, 7, 10), "mixolydian"),
    Quality("7#5", (0, 4, 8, 10), "whole tone"),
    Quality("7b9", (0, 4, 7, 10, 1), "half-whole diminished"),
    Quality("7#9", (0, 4, 7, 10, 3), "half-whole diminished"),
    Quality("9", (0, 4, 7, 10, 2), "mixolydian"),
    Quality("maj9", (0, 4, 7, 11, 2), "ionian"),
    Quality("m9", (0, 3, 7, 10, 2), "dorian"),
    Quality("11", (0, 4, 7, 10, 2, 5), "mixolydian"),
    Quality("m11", (0, 3, 7, 10, 2, 5), "dorian"),
    Quality("13", (0, 4, 7, 10, 2, 9), "mixolydian"),
)}

# Every accepted spelling of a suffix → the canonical suffix. Words (maj, min, dim, aug, sus)
# may be in any case; single letters may not (M7 is major, m7 minor).
SUFFIXES: dict[str, str] = {
    "": "", "maj": "", "M": "",
    "m": "m", "min": "m", "-": "m",
    "dim": "dim", "o": "dim", "°": "dim",
    "aug": "aug", "+": "aug",
    "sus": "sus4", "sus4": "sus4", "sus2": "sus2",
    "6": "6", "maj6": "6", "m6": "m6", "min6": "m6", "-6": "m6",
    "69": "69", "6/9": "69",
    "7": "7", "dom7": "7",
    "maj7": "maj7", "M7": "maj7", "ma7": "maj7", "Δ": "maj7", "Δ7": "maj7", "j7": "maj7",
    "m7": "m7", "min7": "m7", "-7": "m7", "mi7": "m7",
    "mmaj7": "mmaj7", "mMaj7": "mmaj7", "mM7": "mmaj7", "m(maj7)": "mmaj7", "minmaj7": "mmaj7",
    "-maj7": "mmaj7",
    "m7b5": "m7b5", "min7b5": "m7b5", "-7b5": "m7b5", "ø": "m7b5", "ø7": "m7b5",
    "dim7": "dim7", "o7": "dim7", "°7": "dim7",
    "7sus4": "7sus4", "7sus": "7sus4",
    "7#5": "7#5", "7+5": "7#5", "aug7": "7#5", "+7": "7#5",
    "7b9": "7b9", "7#9": "7#9",
    "9": "9", "maj9": "maj9", "M9": "maj9", "m9": "m9", "min9": "m9", "-9": "m9",
    "11": "11", "m11": "m11", "min11": "m11", "-11": "m11",
    "13": "13",
}

_SYMBOL = re.compile(r"^([A-G])([#♯b♭]?)(.*?)(?:/([A-G])([#♯b♭]?))?$")
_WORD = re.compile(r"^(maj|min|dim|aug|sus|dom)", re.IGNORECASE)


def pitch_classes_above(root: int, intervals: Sequence[int]) -> frozenset[int]:
    """The pitch classes `intervals` semitones above the pitch class `root`."""
    return frozenset((root + i) % 12 for i in intervals)


def chord_tones(root: int, quality: Quality, bass: int | None = None) -> frozenset[int]:
    """The pitch classes of the chord of `root` and `quality`, with `bass` (a slash bass)."""
    return pitch_classes_above(root, quality.intervals) | ({root} if bass is None else {bass})


@dataclass(frozen=True)
class Chord:
    """A chord: how it was written, its root and bass pitch classes (0 = C), and its quality."""

    symbol: str
    root: int
    quality: Quality
    bass: int

    # Cached (in the instance's __dict__, which a frozen dataclass leaves writable): realising a
    # solo asks for them for every candidate pitch of every note.
    @cached_property
    def pitch_classes(self) -> frozenset[int]:
        """The chord tones, slash bass included."""
        return chord_tones(self.root, self.quality, self.bass)

    @cached_property
    def scale(self) -> frozenset[int]:
        """The pitch classes of the scale that fits the chord (its chord tones included)."""
        return pitch_classes_above(self.root, SCALES[self.quality.scale]) | self.pitch_classes

    def __str__(self) -> str:
        return self.symbol


Measure = list[tuple[Chord, Fraction]]
"""The chords of one measure, each with its duration in quarter notes."""

Progression = list[Measure]


def accepted_spellings() -> str:
    """A one-line summary of what `parse_chord` accepts, for its error message."""
    suffixes = " ".join(q for q in QUALITIES if q)
    return (f"a root A-G with optional # or b (Bb, F#), then nothing for major or one of: "
            f"{suffixes} (or an alias such as min, -, M7, maj, ø, o, +), optionally /BASS as in "
            "C/E")


def parse_chord(symbol: str, source: str = "--chords") -> Chord:
    """The chord of a symbol such as ``Cm7``, ``Bb7``, ``F#m7b5`` or ``C/E``.

    An unparseable symbol is a `UsageError` naming it, `source` (the flag or file it came from),
    and what is accepted.
    """
    match = _SYMBOL.match(symbol.strip())
    suffix = None
    if match:
        suffix = _WORD.sub(lambda m: m.group(1).lower(), match.group(3))
    if not match or suffix not in SUFFIXES:
        raise UsageError(f"{source}: cannot read the chord symbol {symbol!r}; write "
                         f"{accepted_spellings()}")
    root = _pitch_class(match.group(1), match.group(2))
    bass = _pitch_class(match.group(4), match.group(5)) if match.group(4) else root
    return Chord(symbol.strip(), root, QUALITIES[SUFFIXES[suffix]], bass)


def _pitch_class(letter: str, accidental: str) -> int:
    shift = {"#": 1, "♯": 1, "b": -1, "♭": -1}.get(accidental, 0)
    return (NOTE_NAMES[letter] + shift) % 12


def make_chord(root: int, quality: str, bass: int | None = None) -> Chord:
    """The chord of a root pitch class and a canonical suffix, spelled the usual jazz way."""
    bass = root if bass is None else bass
    symbol = ROOT_SPELLINGS[root] + quality + (f"/{ROOT_SPELLINGS[bass]}" if bass != root else "")
    return Chord(symbol, root, QUALITIES[quality], bass)


# Qualities that `identify_chord` may name: the ones a comping part makes clear.
_IDENTIFIABLE = ("", "m", "7", "maj7", "m7", "m7b5", "dim7", "dim", "aug", "sus4", "6", "m6",
                 "9", "m9", "maj9")


def identify_chord(weights: Sequence[float], bass: int | None = None) -> Chord:
    """The chord that best explains a pitch-class profile (12 weights, e.g. seconds sounding).

    Each candidate (root, quality) scores the weight on its tones minus the weight off them,
    minus a little per chord tone that does not sound; a root in the bass wins ties between
    chords with the same tones (C6 versus Am7). Callers must pass some non-zero weight.
    """
    total = float(sum(weights))
    profile = [w / total for w in weights]
    best, best_score = None, float("-inf")
    for quality in _IDENTIFIABLE:
        for root in range(12):
            tones = chord_tones(root, QUALITIES[quality])
            inside = sum(profile[pc] for pc in tones)
            missing = sum(1 for pc in tones if profile[pc] < 0.03)
            score = 2 * inside - 1 - 0.12 * missing + (0.05 if root == bass else 0.0)
            if score > best_score + 1e-9:
                best, best_score = (root, quality), score
    return make_chord(*best)


def parse_progression(text: str, measure_length: Fraction | float = 4,
                      source: str = "--chords") -> Progression:
    """Measures of ``(chord, quarter notes)`` from ``"Dm7 G7 | Cmaj7 | ..."``.

    Chords in a measure share it evenly; `measure_length` is in quarter notes (4 for 4/4).
    Leading and trailing bars are ignored; an empty measure between two bars, or an empty
    progression, is a `UsageError` naming `source`.
    """
    measure_length = Fraction(measure_length).limit_denominator(96)
    bars = [bar.split() for bar in text.strip().strip("|").split("|")]
    if not any(bars):
        raise UsageError(f"{source} is empty; give chords separated by spaces and measures by |, "
                         "as in \"Dm7 G7 | Cmaj7\"")
    progression = []
    for number, symbols in enumerate(bars, start=1):
        if not symbols:
            raise UsageError(f"{source}: measure {number} has no chord; give at least one chord "
                             "between two bars |, or repeat the previous chord")
        share = measure_length / len(symbols)
        progression.append([(parse_chord(s, source), share) for s in symbols])
    return progression


def solo_form(chorus: Progression, bars: int | None = None, choruses: int = 1) -> Progression:
    """The progression a solo is played over: `chorus` `choruses` times over, or, given `bars`,
    repeated as often as it takes and cut after that many measures (at most
    `lstm_core.limits.MAX_BARS`)."""
    if bars is None:
        require_solo_bars(len(chorus) * choruses)
        return list(chorus) * choruses
    return [chorus[n % len(chorus)] for n in range(bars)]


def format_progression(progression: Progression) -> str:
    """The text `parse_progression` reads back as the same progression (even shares)."""
    return " | ".join(" ".join(chord.symbol for chord, _ in measure) for measure in progression)


def measure_beats(measure: Measure) -> Fraction:
    """How long `measure` is, in quarter notes: its chords' durations added up."""
    return sum((beats for _, beats in measure), Fraction(0))


def chord_timeline(progression: Progression) -> list[tuple[Fraction, Fraction, Chord]]:
    """Each chord of the progression with its start and end, in quarter notes from the start."""
    timeline, offset = [], Fraction(0)
    for measure in progression:
        for chord, beats in measure:
            timeline.append((offset, offset + beats, chord))
            offset += beats
    return timeline


def chord_finder(progression: Progression, start: Fraction = Fraction(0)
                 ) -> Callable[[Fraction], Chord]:
    """The function from an offset to the chord sounding there, for `progression` starting at
    offset `start`: before `start`, the first chord; past the end, the last."""
    return changes_finder([(start + begin, chord)
                           for begin, _, chord in chord_timeline(progression)])


def changes_finder(changes: Sequence[tuple[Fraction, Chord]]) -> Callable[[Fraction], Chord]:
    """The function from an offset to the chord sounding there, for `changes` (``(offset,
    chord)``, in order of offset): before the first change, its chord; past the last, the last."""
    starts = [offset for offset, _ in changes]
    chords = [chord for _, chord in changes]
    return lambda offset: chords[max(bisect_right(starts, offset) - 1, 0)]
