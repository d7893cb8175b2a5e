"""What a piece's rhythm and harmony look like, in numbers, to compare a generated piece with
its corpus: ``python -m lstm_core.music.describe --midi new_song.mid [--midi corpus/*.mid]``.

Reports the notes, the pitch range, the distinct note lengths and distances between onsets
(one constant step means the rhythm was lost), and the chords: onsets where two or more notes
start together, and how many of those span more than an octave (the octave was kept).
"""

from __future__ import annotations

import collections
import glob
import sys
from typing import Sequence

from lstm_core.errors import UsageError
from lstm_core.music import scores
from lstm_core.music.events import TICKS_PER_QUARTER, Note


def describe(pieces: Sequence[Sequence[Note]]) -> dict:
    """Figures of pieces, each a list of notes (onsets and durations in ticks)."""
    notes = [note for piece in pieces for note in piece]
    steps, chords, onsets = set(), [], 0
    for piece in pieces:
        by_onset = collections.defaultdict(list)
        for note in piece:
            by_onset[note.onset].append(note.pitch)
        starts = sorted(by_onset)
        steps |= {b - a for a, b in zip(starts, starts[1:])}
        chords += [pitches for pitches in by_onset.values() if len(set(pitches)) > 1]
        onsets += len(starts)
    return {
        "notes": len(notes),
        "lowest": min(n.pitch for n in notes),
        "highest": max(n.pitch for n in notes),
        "durations": len({n.duration for n in notes}),
        "onset_steps": len(steps),
        "chord_share": len(chords) / max(onsets, 1),
        "chords_wider_than_an_octave": sum(max(c) - min(c) > 12 for c in chords),
        "common_durations": [d / TICKS_PER_QUARTER for d, _ in
                             collections.Counter(n.duration for n in notes).most_common(5)],
    }


def main(argv: Sequence[str]) -> None:
    from absl import flags

    paths = sorted({p for pattern in flags.FLAGS.midi for p in glob.glob(pattern)})
    if not paths:
        raise UsageError(f"--midi {','.join(flags.FLAGS.midi)} matches no file; give MIDI files")
    pieces = []
    for path in paths:
        try:
            pieces.append(scores.read_file(path).notes)
        except Exception as e:  # a broken file can fail the parser in any way: skip it
            print(f"warning: skipping {path}: {e}", file=sys.stderr)
    if not pieces:
        raise UsageError(f"--midi {','.join(flags.FLAGS.midi)}: no readable MIDI file with notes")
    figures = describe(pieces)
    print(f"{len(paths)} file(s): {figures['notes']} notes, pitches {figures['lowest']}-"
          f"{figures['highest']}, {figures['durations']} distinct note lengths (most common, in "
          f"quarters: {figures['common_durations']}), {figures['onset_steps']} distinct steps "
          f"between onsets, {figures['chord_share']:.0%} of onsets are chords, "
          f"{figures['chords_wider_than_an_octave']} chords span more than an octave")


if __name__ == "__main__":
    from absl import flags

    from lstm_core.cli import run

    flags.DEFINE_multi_string("midi", None, "MIDI file(s) or glob(s) to describe.")
    flags.mark_flag_as_required("midi")
    run(main)
