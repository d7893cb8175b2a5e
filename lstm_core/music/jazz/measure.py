"""How a solo sits on its chords: the figures to compare a generated solo with its model.

Run ``python -m lstm_core.music.jazz.measure --midi FILE [--melody_part P] [--chord_parts ...]``
on a training MIDI file or on one `realize.write_jazz_midi` wrote (its ``Solo`` part is found as
the melody, its ``Chords`` part gives the chords). It prints the share of notes that are chord,
scale, approach and other tones under the chord sounding at each note's start, the longest run
of one repeated pitch (rests do not break a run), and a histogram of the intervals between
consecutive notes.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Sequence

from lstm_core.music.jazz.extract import Source, read_sources
from lstm_core.music.jazz.grammar import NOTE_CLASSES, classify

CLASS_NAMES = {"C": "chord tones", "S": "scale tones", "A": "approach tones", "X": "other"}
WIDEST_INTERVAL_SHOWN = 12
"""Intervals wider than this many semitones are counted together, up and down."""


@dataclass
class SoloFigures:
    """What `measure_solo` finds in a solo."""

    notes: int
    class_shares: dict[str, float]
    longest_repeat: int
    intervals: collections.Counter
    """Semitones between consecutive notes → how often, clipped to ±`WIDEST_INTERVAL_SHOWN`+1."""


def measure_solo(source: Source) -> SoloFigures:
    """The figures of a source's solo against its chords."""
    notes = source.melody
    classes = collections.Counter(classify(n.pitch, source.chord_at(n.time)) for n in notes)
    longest = run = 0
    intervals: collections.Counter = collections.Counter()
    for before, after in zip([None] + notes, notes):
        same = before is not None and before.pitch == after.pitch
        run = run + 1 if same else 1
        longest = max(longest, run)
        if before is not None:
            limit = WIDEST_INTERVAL_SHOWN + 1
            intervals[max(-limit, min(limit, after.pitch - before.pitch))] += 1
    total = max(len(notes), 1)
    return SoloFigures(len(notes), {k: classes[k] / total for k in NOTE_CLASSES}, longest,
                       intervals)


def format_figures(name: str, figures: SoloFigures) -> str:
    """A short plain-text report of `figures`."""
    lines = [f"{name}: {figures.notes} notes"]
    lines += [f"  {CLASS_NAMES[k]:15s} {share:6.1%}" for k, share in figures.class_shares.items()]
    lines.append(f"  longest run of one repeated pitch: {figures.longest_repeat} notes")
    lines.append("  intervals (semitones: count):")
    total = max(sum(figures.intervals.values()), 1)
    limit = WIDEST_INTERVAL_SHOWN + 1
    for step in range(-limit, limit + 1):
        count = figures.intervals.get(step, 0)
        label = (f"<-{WIDEST_INTERVAL_SHOWN}" if step == -limit else
                 f">+{WIDEST_INTERVAL_SHOWN}" if step == limit else f"{step:+d}")
        lines.append(f"    {label:>5s} {count:5d} {'#' * round(60 * count / total)}")
    return "\n".join(lines)


def main(argv: Sequence[str]) -> None:
    from absl import flags

    from lstm_core.progress import Terminal

    FLAGS, terminal = flags.FLAGS, Terminal()
    for source in read_sources(FLAGS.midi, FLAGS.melody_part, FLAGS.chord_parts, flag="--midi",
                               report=terminal.report, progress=terminal.progress):
        print(format_figures(f"{source.name} (melody {source.melody_part!r})",
                             measure_solo(source)))


if __name__ == "__main__":
    from absl import flags

    from lstm_core.cli import run

    flags.DEFINE_string("midi", None, "MIDI or MusicXML file (or music21:NAME) with a solo.")
    flags.DEFINE_string("melody_part", None, "Index or name of the solo part (default: guessed).")
    flags.DEFINE_list("chord_parts", None, "Indices or names of the parts that give the chords "
                      "(default: every other pitched part, or the chord symbols).")
    flags.mark_flag_as_required("midi")
    run(main)
