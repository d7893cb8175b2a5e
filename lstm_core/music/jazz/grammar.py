"""The jazz grammar: each solo note or rest as a token relative to the chord under it.

After Gillick, Tang and Keller, *Learning Jazz Grammars* (2009), as deepjazz's model uses it.
A token is ``CLASS,DURATION`` for a rest and ``CLASS,DURATION,<UPPER,LOWER>`` for a note:

- ``CLASS``: ``C`` chord tone, ``S`` tone of the chord's scale, ``A`` approach tone (a semitone
  from a chord tone), ``X`` any other note, ``R`` rest; tested in that order against the chord
  sounding when the note starts (`classify`).
- ``DURATION``: quarter notes on a grid of twelfths (sixteenths and triplets), three decimals.
- ``<UPPER,LOWER>``: the interval from the previous note to this one, widened by a minor third
  each way, as music21's directed interval names (``M-2`` is a major second down). The first
  note of a solo has none.

So ``C,0.250,<M-2,m-6>`` is a sixteenth-note chord tone a major second to a minor sixth below the
previous note. Rests are cut at bar lines and measures in which the solo is silent are left out:
the model learns to play, not to wait for its next entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

from lstm_core.kinds import TokenKind
from lstm_core.music.constants import GRID, TICKS_PER_QUARTER
from lstm_core.music.jazz.chords import Chord, format_progression
from lstm_core.music.jazz.dynamics import measure_dynamics
from lstm_core.music.jazz.extract import PartChoice, Source, grid_tick, read_sources
from lstm_core.progress import Report, TaskProgress, silent_progress, silent_report

ENCODING = TokenKind.JAZZ
REST, CHORD_TONE, SCALE_TONE, APPROACH_TONE, OTHER = "R", "C", "S", "A", "X"
NOTE_CLASSES = (CHORD_TONE, SCALE_TONE, APPROACH_TONE, OTHER)
INTERVAL_SLACK = 3
"""Semitones each way around the played interval: a minor third, as in *Learning Jazz Grammars*."""
LONGEST_DURATION = Fraction(16)
"""Longer tokens than four 4/4 measures are not read back (a sampler may invent anything)."""
SHORTEST_DURATION = Fraction(1, GRID)
"""A grid step: a token's duration is rounded to the grid and never shorter."""

DESCRIPTION = (
    "CLASS,DURATION[,<UPPER,LOWER>]: CLASS is C chord tone, S scale tone of the chord's scale, "
    "A approach tone (a semitone from a chord tone), X other, R rest, relative to the chord "
    "sounding when the note starts; DURATION in quarter notes on a 1/12 grid; for notes after "
    "the first, the interval from the previous note widened by a minor third each way, as "
    "music21 directed interval names (M-2: a major second down)")

# Simple intervals by semitones, with music21's quality letters.
_SIMPLE = ("P1", "m2", "M2", "m3", "M3", "P4", "A4", "P5", "m6", "M6", "m7", "M7")
_TOKEN = re.compile(r"^([CSAXR]),(\d+(?:\.\d+)?)(?:,<([^,<>]+),([^,<>]+)>)?$")
_INTERVAL = re.compile(r"^([PMmA])(-?)(\d+)$")


@dataclass(frozen=True)
class Element:
    """One token, read: its class, its duration, and for notes the interval bounds if any."""

    kind: str
    duration: Fraction
    """In quarter notes, exact: a rest cut at a bar line keeps its true length."""
    interval: tuple[int, int] | None = None
    """Lowest and highest semitones from the previous note (negative: downwards)."""

    @property
    def is_rest(self) -> bool:
        return self.kind == REST

    def token(self) -> str:
        """The token's text, which `parse_token` reads back."""
        text = f"{self.kind},{float(self.duration):.3f}"
        if self.interval is not None:
            low, high = self.interval
            text += f",<{interval_name(high)},{interval_name(low)}>"
        return text


def classify(pitch: int, chord: Chord) -> str:
    """``C``, ``S``, ``A`` or ``X``: how `pitch` (MIDI) relates to `chord`."""
    pitch_class = pitch % 12
    if pitch_class in chord.pitch_classes:
        return CHORD_TONE
    if pitch_class in chord.scale:
        return SCALE_TONE
    if (pitch_class + 1) % 12 in chord.pitch_classes or (pitch_class - 1) % 12 in \
            chord.pitch_classes:
        return APPROACH_TONE
    return OTHER


def interval_name(semitones: int) -> str:
    """music21's directed name of an interval: 7 → ``P5``, -2 → ``M-2``, 15 → ``m10``."""
    octaves, step = divmod(abs(semitones), 12)
    simple = _SIMPLE[step]
    return f"{simple[0]}{'-' if semitones < 0 else ''}{int(simple[1:]) + 7 * octaves}"


def interval_semitones(name: str) -> int | None:
    """The semitones of a name `interval_name` writes, or None if it is not one."""
    match = _INTERVAL.match(name)
    if not match or int(match.group(3)) < 1:
        return None
    octaves, number = divmod(int(match.group(3)) - 1, 7)
    simple = f"{match.group(1)}{number + 1}"
    if simple not in _SIMPLE:
        return None
    semitones = _SIMPLE.index(simple) + 12 * octaves
    return -semitones if match.group(2) else semitones


def parse_token(token: str) -> Element | None:
    """The element of a token, or None for anything that is not one (the unknown token...)."""
    match = _TOKEN.match(token)
    if not match:
        return None
    kind = match.group(1)
    duration = Fraction(grid_tick(Fraction(match.group(2))), TICKS_PER_QUARTER)
    if not SHORTEST_DURATION <= duration <= LONGEST_DURATION:
        return None
    if match.group(3) is None:
        return Element(kind, duration)
    high, low = interval_semitones(match.group(3)), interval_semitones(match.group(4))
    if kind == REST or high is None or low is None or low > high:
        return None
    return Element(kind, duration, (low, high))


def solo_elements(source: Source) -> list[Element]:
    """The grammar elements of a source's solo, measure by measure: a rest for each silence
    before a note (from the progression's start on), then the note."""
    elements: list[Element] = []
    previous: int | None = None
    position = source.start  # where the last note ended, in quarter notes
    for note in source.melody:
        onset = Fraction(note.time, TICKS_PER_QUARTER)
        elements += [Element(REST, length)
                     for length in _rest_within_measures(source, position, onset)]
        interval = None
        if previous is not None:
            step = note.pitch - previous
            interval = (step - INTERVAL_SLACK, step + INTERVAL_SLACK)
        duration = Fraction(note.duration, TICKS_PER_QUARTER)
        elements.append(Element(classify(note.pitch, source.chord_at(note.time)), duration,
                                interval))
        previous, position = note.pitch, onset + duration
    return elements


def _rest_within_measures(source: Source, begin: Fraction, end: Fraction) -> list[Fraction]:
    """The lengths of the silence from `begin` to `end` (quarter notes) cut at bar lines, whole
    silent measures left out."""
    lengths, position = [], begin
    while position < end:
        bar_end = source.start + ((position - source.start) // source.measure_length + 1) \
            * source.measure_length
        length = min(bar_end, end) - position
        if length < source.measure_length:
            lengths.append(length)
        position += length
    return lengths


def load_jazz_corpus(training_file: str, melody_part: PartChoice | None = None,
                     chord_parts: Sequence[PartChoice] | None = None,
                     report: Report = silent_report, progress: TaskProgress = silent_progress
                     ) -> tuple[list[str], dict]:
    """The token sequence of every solo in `training_file`, and the vocabulary's metadata.

    `training_file` is a MIDI or MusicXML file, a folder of them, or ``music21:NAME`` (a lead
    sheet or folder of music21's corpus, e.g. ``music21:leadSheet``). The metadata records the
    encoding, the grammar, tempo and time signature, the solo's pitch range, mean token
    duration and dynamics (for realising and sizing a solo: `dynamics.measure_dynamics` of the
    solos in the first one's meter), and the first source's chord progression (what
    ``--chords_from`` of the training file gives). Each score skipped is warned of through
    `report`; the scores read are counted through `progress`.
    """
    sources = read_sources(training_file, melody_part, chord_parts, report=report,
                           progress=progress)
    elements = [element for source in sources for element in solo_elements(source)]
    tokens = [element.token() for element in elements]
    pitches = [n.pitch for source in sources for n in source.melody]
    durations = [float(element.duration) for element in elements]
    first = sources[0]
    accents = [((Fraction(n.time, TICKS_PER_QUARTER) - s.start) % s.measure_length, n.velocity)
               for s in sources if s.measure_length == first.measure_length for n in s.melody]
    metadata = {
        "encoding": ENCODING,
        "grammar": DESCRIPTION,
        "tempo": first.tempo,
        "time_signature": first.time_signature,
        "measure_length": float(first.measure_length),
        "pitch_range": [min(pitches), max(pitches)],
        "mean_duration": round(sum(durations) / len(durations), 4),
        "dynamics": measure_dynamics(accents, first.measure_length),
        "progression": format_progression(first.chord_progression),
        "sources": [s.name for s in sources],
        "melody_part": first.melody_part,
        "chord_parts": first.chord_parts,
    }
    return tokens, metadata
