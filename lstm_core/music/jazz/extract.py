"""Melody and harmony from a score: a MIDI file, a lead sheet, or a music21 corpus work.

Nothing is hard-coded to one file. The melody is the part named `SOLO_PART` (as this project
writes it), else the pitched part that plays one note at a time most often (at least 60 % of its
onsets single notes, mean pitch at or above G3, so a bass line is not a melody), with the most
single-note onsets (however few: a short solo is still a solo) and then the highest mean pitch;
the harmony comes from the score's chord symbols when it has any (lead sheets), otherwise from
the other pitched parts: each half measure's sounding pitch classes, weighted by duration with
the lowest note counted twice, become the chord that explains them best
(`chords.identify_chord`).
`melody_part` and `chord_parts` (part indices or names) override the guesses.

MIDI files are read with music21's default quantisation (onsets and durations snapped to
sixteenths or eighth-note triplets), which suits played performances; a generated solo's
sixteenth-triplet onsets move by at most a 24th of a quarter when read back.

A source may be ``music21:NAME``, a work or folder of music21's bundled corpus (for example
``music21:leadSheet/fosterBrownHair`` or ``music21:leadSheet``), a file music21 reads (MIDI,
MusicXML, ABC, ...), or a folder of such files; an ABC file holding several tunes gives each.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator, Sequence

import music21
import numpy as np
import symusic

from lstm_core.errors import UsageError
from lstm_core.music.jazz.chords import (QUALITIES, Chord, Measure, Progression, changes_finder,
                                         chord_finder, chord_tones, identify_chord, make_chord)
from lstm_core.music.constants import (DEFAULT_TEMPO, DEFAULT_TIME_SIGNATURE, GRID,
                                       MIDI_SUFFIXES, TICKS_PER_QUARTER)
from lstm_core.progress import Report, TaskProgress, silent_progress, silent_report

# What makes a part a melody: mostly single notes, above the bass register.
MIN_SINGLE_SHARE = 0.6
MIN_MEAN_PITCH = 55
CHORDS_PER_MEASURE = 2
SOLO_PART, CHORDS_PART = "Solo", "Chords"
"""The part names `realize.write_jazz_midi` gives: a solo this project wrote is read by them."""
UNMARKED_VELOCITY = 90  # of a note that has none (notation): what music21 writes to MIDI
GRID_STEP = TICKS_PER_QUARTER // GRID  # ticks from one grid line to the next

PartChoice = int | str


@dataclass
class Source:
    """A solo and the chords under it, as read from one score."""

    name: str
    melody: list[symusic.Note]
    """The solo, one note at a time: onsets on the grid, in ticks at `TICKS_PER_QUARTER` from the
    score's start; its rests are the gaps between notes (and before the first)."""
    progression: Progression
    start: Fraction
    """Offset in the score of the progression's first measure."""
    harmony_start: Fraction
    """Offset of the first measure with a chord (later than `start` after a bare pickup)."""
    measure_length: Fraction
    time_signature: str
    tempo: float
    melody_part: str
    chord_parts: list[str]

    def __post_init__(self) -> None:
        self._chord_at = chord_finder(self.progression, self.start)

    @property
    def chord_progression(self) -> Progression:
        """The progression from the first measure with a chord: what `read_progression` gives."""
        return self.progression[int((self.harmony_start - self.start) / self.measure_length):]

    def chord_at(self, time: int) -> Chord:
        """The chord sounding at tick `time` (the first chord before the progression starts)."""
        return self._chord_at(Fraction(time, TICKS_PER_QUARTER))


def read_sources(path: str, melody_part: PartChoice | None = None,
                 chord_parts: Sequence[PartChoice] | None = None,
                 flag: str = "--training_file", report: Report = silent_report,
                 progress: TaskProgress = silent_progress) -> list[Source]:
    """Every solo with its chords in `path` (a file, a folder, a glob, or ``music21:NAME``).

    A score that cannot be read, or has no melody, no notes or no chords (or lacks the part
    `melody_part` names), is skipped with one warning line to `report` when others are usable;
    when none is, a `UsageError` says why (a single score: its own reason and the flag that
    fixes it). The files read are counted through `progress`.
    """
    sources, skipped = [], []
    for name, score in load_scores(path, flag, report, progress):
        try:
            sources.append(_source(name, score, melody_part, chord_parts))
        except UsageError as e:
            skipped.append(str(e))
    if len(skipped) == 1 and not sources:
        raise UsageError(skipped[0])
    for reason in skipped:
        report(f"warning: skipping {reason}")
    if not sources:
        raise UsageError(f"{flag} {path}: none of its {len(skipped)} scores has a solo over "
                         "chords to learn from (see the warnings above)")
    return sources


def read_progression(path: str, chord_parts: Sequence[PartChoice] | None = None,
                     flag: str = "--chords_from", report: Report = silent_report
                     ) -> Progression:
    """The chord progression of the first score in `path`, for soloing over it (a file skipped
    before it is warned of through `report`).

    Uses the chord symbols, else `chord_parts`, else every pitched part but the melody (all of
    them when no part looks like a melody).
    """
    name, score = next(load_scores(path, flag, report))  # parses no further than the first score
    parts, sounds = _parts_and_sounds(score)
    melody = _guess_melody(parts, sounds) if chord_parts is None else None
    accompaniment = _accompaniment(parts, sounds, melody, chord_parts, name)
    return _harmony(name, score, _time_signature(score), [sounds[i] for i in accompaniment])[0]


# ---- loading ----------------------------------------------------------------------------------
def load_scores(path: str, flag: str, report: Report = silent_report,
                progress: TaskProgress = silent_progress
                ) -> Iterator[tuple[str, music21.stream.Score]]:
    """``(name, score)`` for each work in `path` (`corpus.source_files`), lazily: a file is
    parsed only when the scores before it have been taken, so ``next(load_scores(...))`` parses
    up to the first readable one. A file music21 cannot read is skipped with a warning line to
    `report`; a `UsageError` when that was the only file, or, at the end, when no file held a
    score. The files read go to `progress` (for a caller that takes all)."""
    from lstm_core.music.corpus import source_files

    files = [str(f) for f in source_files(path, flag)]
    found, skipped = False, 0
    for done, file in enumerate(files, start=1):
        progress(done - 1, len(files), f"scores read, {skipped} skipped")
        try:
            # By content for MIDI suffixes: music21 guesses formats by extension and knows no .kar.
            parsed = music21.converter.parse(
                file, format="midi" if file.lower().endswith(MIDI_SUFFIXES) else None)
        except Exception as e:  # music21 raises many kinds of errors on a broken file
            if len(files) == 1:
                raise UsageError(f"{flag} {file} cannot be read as a score ({e})") from None
            report(f"warning: skipping {file}, which cannot be read as a score ({e})")
            skipped += 1
            continue
        works = list(parsed.scores) if isinstance(parsed, music21.stream.Opus) else [parsed]
        for i, work in enumerate(works):
            found = True
            yield (file if len(works) == 1 else f"{file} #{i + 1}", work)
    progress(len(files), len(files), f"scores read, {skipped} skipped")
    if not found:
        raise UsageError(f"{flag} {path} holds no score music21 can read")


# ---- parts ------------------------------------------------------------------------------------
def _part_name(part: music21.stream.Stream, index: int) -> str:
    return getattr(part, "partName", None) or f"part {index}"


def _describe_parts(parts: Sequence[music21.stream.Stream]) -> str:
    return ", ".join(f"{i} {_part_name(p, i)!r}" for i, p in enumerate(parts))


def _part_indices(parts: Sequence[music21.stream.Stream], choices: Sequence[PartChoice],
                  name: str, flag: str) -> list[int]:
    """Indices of the parts named or numbered in `choices`."""
    indices = []
    for choice in choices:
        text = str(choice).strip()
        if text.isdigit() and int(text) < len(parts):
            indices.append(int(text))
            continue
        named = [i for i, p in enumerate(parts) if _part_name(p, i).lower() == text.lower()]
        if not named:
            raise UsageError(f"{flag} {choice!r} is not a part of {name}; its parts are "
                             f"{_describe_parts(parts)}")
        indices.append(named[0])
    return indices


def _parts_and_sounds(score: music21.stream.Score
                      ) -> tuple[list[music21.stream.Stream], list[list[symusic.Note]]]:
    """The score's parts (the score itself when it has none) and the `_sounds` of each."""
    parts = list(score.parts) or [score]
    return parts, [_sounds(part) for part in parts]


def _accompaniment(parts: Sequence[music21.stream.Stream],
                   sounds: Sequence[list[symusic.Note]], melody: int | None,
                   chord_parts: Sequence[PartChoice] | None, name: str) -> list[int]:
    """Indices of the parts that give the chords: `chord_parts` when given, else every part with
    notes but the `melody` part."""
    if chord_parts is not None:
        return _part_indices(parts, chord_parts, name, "--chord_parts")
    return [i for i in range(len(parts)) if i != melody and sounds[i]]


def _sounds(part: music21.stream.Stream) -> list[symusic.Note]:
    """Each pitched sound of `part` as it is written (not on the grid), tied notes merged."""
    sounds: list[list] = []  # [offset, duration, MIDI pitch, velocity], quarter notes
    tied: dict[int, list] = {}  # pitch → the sound its tie continues
    for element in part.flatten().notes:
        if isinstance(element, music21.harmony.Harmony) or element.quarterLength <= 0:
            continue
        components = element.notes if isinstance(element, music21.chord.Chord) else [element]
        for note in components:
            if not hasattr(note, "pitch"):
                continue  # unpitched percussion
            tie = note.tie or element.tie
            sound = tied.pop(note.pitch.midi, None)
            if sound is not None and tie is not None and tie.type in ("continue", "stop"):
                sound[1] += float(element.quarterLength)
            else:
                velocity = note.volume.velocity or element.volume.velocity or UNMARKED_VELOCITY
                sound = [float(element.offset), float(element.quarterLength), note.pitch.midi,
                         velocity]
                sounds.append(sound)
            if tie is not None and tie.type in ("start", "continue"):
                tied[note.pitch.midi] = sound
    return [symusic.Note(ticks(offset), ticks(duration), pitch, velocity)
            for offset, duration, pitch, velocity in sounds]


def _guess_melody(parts: Sequence[music21.stream.Stream],
                  sounds: Sequence[list[symusic.Note]]) -> int | None:
    """The index of the part that looks most like a melody, or None."""
    named = [i for i, part in enumerate(parts)
             if sounds[i] and _part_name(part, i).lower() == SOLO_PART.lower()]
    if named:
        return named[0]
    best, best_key = None, None
    for index, part_sounds in enumerate(sounds):
        per_onset = collections.Counter(sound.time for sound in part_sounds)
        single = sum(1 for count in per_onset.values() if count == 1)
        if not single or single / len(per_onset) < MIN_SINGLE_SHARE:
            continue
        mean_pitch = sum(sound.pitch for sound in part_sounds) / len(part_sounds)
        if mean_pitch >= MIN_MEAN_PITCH and (best_key is None or (single, mean_pitch) > best_key):
            best, best_key = index, (single, mean_pitch)
    return best


# ---- ticks, the grid, and the melody line -----------------------------------------------------
def ticks(quarters: float | Fraction) -> int:
    """`quarters` in ticks at `TICKS_PER_QUARTER` (halfway between two ticks: the even one)."""
    return round(Fraction(quarters) * TICKS_PER_QUARTER)


def grid_tick(quarters: float | Fraction) -> int:
    """The tick of the grid line (`constants.GRID` per quarter) nearest `quarters`; halfway
    between two lines, the even one."""
    return round(Fraction(quarters) * GRID) * GRID_STEP


def _on_grid(quarters: float | Fraction) -> Fraction:
    """`quarters` on the grid, in quarter notes (as a progression's offsets are counted)."""
    return Fraction(grid_tick(quarters), TICKS_PER_QUARTER)


def monophonic_line(sounds: Sequence[symusic.Note]) -> list[symusic.Note]:
    """One line from possibly overlapping sounds: one note at a time, onsets on the grid.

    Of the sounds starting together the highest is kept (two voices merge into their top line),
    each note lasts at least a grid step and ends at the next onset at the latest; silences are
    the gaps between notes.
    """
    highest: dict[int, symusic.Note] = {}
    for sound in sounds:
        onset = grid_tick(Fraction(sound.time, TICKS_PER_QUARTER))
        if onset not in highest or sound.pitch > highest[onset].pitch:
            length = max(grid_tick(Fraction(sound.duration, TICKS_PER_QUARTER)), GRID_STEP)
            highest[onset] = symusic.Note(onset, length, sound.pitch, sound.velocity)
    onsets = sorted(highest)
    for onset, following in zip(onsets, onsets[1:]):
        highest[onset].duration = min(highest[onset].duration, following - onset)
    return [highest[onset] for onset in onsets]


# ---- one source -------------------------------------------------------------------------------
def _source(name: str, score: music21.stream.Score, melody_part: PartChoice | None,
            chord_parts: Sequence[PartChoice] | None) -> Source:
    parts, sounds = _parts_and_sounds(score)
    if melody_part is not None:
        melody = _part_indices(parts, [melody_part], name, "--melody_part")[0]
    else:
        melody = _guess_melody(parts, sounds)
        if melody is None:
            raise UsageError(f"{name} has no part that looks like a melody (mostly single notes "
                             f"above G3); choose one with --melody_part from "
                             f"{_describe_parts(parts)}")
    if not sounds[melody]:
        raise UsageError(f"{name}: the melody part {_part_name(parts[melody], melody)!r} has no "
                         f"notes; choose another with --melody_part from "
                         f"{_describe_parts(parts)}")
    accompaniment = _accompaniment(parts, sounds, melody, chord_parts, name)
    time_signature = _time_signature(score)
    progression, start, harmony_start, measure_length = _harmony(
        name, score, time_signature, [sounds[i] for i in accompaniment], sounds[melody])
    tempo = score.recurse().getElementsByClass(music21.tempo.MetronomeMark).first()
    return Source(name, monophonic_line(sounds[melody]), progression, start,
                  harmony_start, measure_length,
                  time_signature.ratioString if time_signature else DEFAULT_TIME_SIGNATURE,
                  float(tempo.getQuarterBPM()) if tempo else DEFAULT_TEMPO,
                  _part_name(parts[melody], melody),
                  [_part_name(parts[i], i) for i in accompaniment])


def _time_signature(score: music21.stream.Score) -> music21.meter.TimeSignature | None:
    """The score's first time signature, if it has one."""
    return score.recurse().getElementsByClass(music21.meter.TimeSignature).first()


def _harmony(name: str, score: music21.stream.Score,
             time_signature: music21.meter.TimeSignature | None,
             accompaniment: Sequence[list[symusic.Note]],
             melody_sounds: Sequence[symusic.Note] = ()
             ) -> tuple[Progression, Fraction, Fraction, Fraction]:
    """The progression, the offsets of its first measure and of the first with a chord, and the
    measure length (of `time_signature`, the score's: 4/4 when it has none).

    The progression covers every measure from the first one with harmony or melody to the last.
    """
    measure_length = Fraction(time_signature.barDuration.quarterLength) if time_signature \
        else Fraction(4)
    origin = _bar_origin(score, measure_length)
    symbols = _chord_symbols(score)
    if symbols:
        changes, resolution = symbols, max(int(measure_length), 1)
    else:
        changes = _chords_from_sounds([s for part in accompaniment for s in part],
                                      measure_length, origin)
        resolution = CHORDS_PER_MEASURE
    if not changes:
        raise UsageError(f"{name} has no chord symbols and no accompaniment to take chords from; "
                         "choose the accompaniment with --chord_parts, or use a lead sheet with "
                         "chord symbols")
    starts = [offset for offset, _ in changes]
    chord_at = changes_finder(changes)
    onsets = [_on_grid(Fraction(s.time, TICKS_PER_QUARTER)) for s in melody_sounds]
    first = (min(starts + onsets) - origin) // measure_length
    end = max(starts + [_on_grid(score.highestTime)])
    last = -((origin - end) // measure_length)  # the ceiling: the measure the end falls in
    step = measure_length / resolution
    progression = []
    for measure in range(first, max(last, first + 1)):
        begin = origin + measure * measure_length
        slots = [chord_at(begin + k * step) for k in range(resolution)]
        progression.append(_even_measure(slots, measure_length))
    harmony_start = origin + ((starts[0] - origin) // measure_length) * measure_length
    return progression, origin + first * measure_length, harmony_start, measure_length


def _even_measure(slots: list[Chord], measure_length: Fraction) -> Measure:
    """The fewest chords sharing the measure evenly that sound as `slots` do."""
    for count in range(1, len(slots) + 1):
        run = len(slots) // count
        if len(slots) % count == 0 and all(slots[i] == slots[i - i % run]
                                           for i in range(len(slots))):
            return [(slots[k * run], measure_length / count) for k in range(count)]
    raise AssertionError("a measure always divides into its own slots")


def _bar_origin(score: music21.stream.Score, measure_length: Fraction) -> Fraction:
    """Where bars fall, modulo a measure: after a pickup, the first full measure's offset."""
    part = score.parts.first() or score
    for measure in part.getElementsByClass(music21.stream.Measure):
        if Fraction(measure.duration.quarterLength) == measure_length:
            return Fraction(measure.offset) % measure_length
    return Fraction(0)


def _chord_symbols(score: music21.stream.Score) -> list[tuple[Fraction, Chord]]:
    """The score's chord symbols as ``(offset, chord)``, in order; "no chord" marks skipped."""
    found = []
    for symbol in score.recurse().getElementsByClass(music21.harmony.ChordSymbol):
        if isinstance(symbol, music21.harmony.NoChord) or not symbol.pitches:
            continue
        root, bass = symbol.root().pitchClass, symbol.bass().pitchClass
        classes = {p.pitchClass for p in symbol.pitches}
        exact = [q for q, quality in QUALITIES.items()
                 if chord_tones(root, quality, bass) == classes]
        if exact:
            chord = make_chord(root, exact[0], bass)
        else:
            chord = identify_chord([1.0 if pc in classes else 0.0 for pc in range(12)], root)
        found.append((_on_grid(symbol.getOffsetInHierarchy(score)), chord))
    return sorted(found, key=lambda change: change[0])


def _chords_from_sounds(sounds: Sequence[symusic.Note], measure_length: Fraction,
                        origin: Fraction) -> list[tuple[Fraction, Chord]]:
    """A chord per window (half a measure) in which the accompaniment sounds."""
    if not sounds:
        return []
    starts, lengths, pitches = (np.array(column) for column in
                                zip(*((s.time, s.duration, s.pitch) for s in sounds)))
    starts, stops = starts / TICKS_PER_QUARTER, (starts + lengths) / TICKS_PER_QUARTER
    window = measure_length / CHORDS_PER_MEASURE
    begin = origin + ((_on_grid(starts.min()) - origin) // window) * window
    changes = []
    while begin < stops.max():
        low, high = float(begin), float(begin + window)
        overlap = np.clip(np.minimum(stops, high) - np.maximum(starts, low), 0, None)
        if overlap.sum() > 0:
            lowest = pitches[overlap > 0].min()
            weights = np.bincount(pitches % 12, weights=overlap, minlength=12)
            weights[lowest % 12] += overlap[pitches == lowest].sum()
            changes.append((begin, identify_chord(weights.tolist(), int(lowest % 12))))
        begin += window
    return changes
