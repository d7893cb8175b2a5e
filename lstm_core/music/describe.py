"""What pieces look like, in numbers, to compare a generated piece with its corpus:
``python -m lstm_core.music.describe --midi new_song.mid [--midi corpus/*.mid]``.

Reports the tracks and their General MIDI programs, the notes and pitch range, the velocities
(distinct values, range), the tempo changes, the sustain pedal, the distinct note lengths and
distances between onsets (one constant step means the rhythm was lost), and the chords: onsets
where two or more pitched notes start together, and how many span more than an octave.
"""

from __future__ import annotations

import collections
import glob
import sys
from typing import Sequence

import symusic

from lstm_core.errors import UsageError
from lstm_core.music import scores
from lstm_core.music.constants import GRID, program_name


def describe(pieces: Sequence[symusic.Score]) -> dict:
    """Figures of `pieces` together."""
    steps, chords, onsets, durations, velocities = set(), [], 0, [], []
    programs, tracks, tempo_changes, pedals, pitches = collections.Counter(), 0, 0, 0, []
    for piece in pieces:
        grid = piece.resample(GRID, min_dur=1)
        tempo_changes += max(0, len({round(t.qpm, 2) for t in grid.tempos}) - 1)
        by_onset = collections.defaultdict(list)
        for track in grid.tracks:
            if not track.notes:
                continue
            tracks += 1
            programs[scores.program_of(track)] += len(track.notes)
            pedals += len(track.pedals)
            for note in track.notes:
                velocities.append(note.velocity)
                if not track.is_drum:
                    by_onset[note.time].append(note.pitch)
                    durations.append(note.duration)
                    pitches.append(note.pitch)
        starts = sorted(by_onset)
        steps |= {b - a for a, b in zip(starts, starts[1:])}
        chords += [p for p in by_onset.values() if len(set(p)) > 1]
        onsets += len(starts)
    return {
        "tracks": tracks,
        "programs": {program_name(p): n for p, n in programs.most_common()},
        "notes": sum(programs.values()),
        "lowest": min(pitches, default=0),
        "highest": max(pitches, default=0),
        "velocities": len(set(velocities)),
        "velocity_range": [min(velocities, default=0), max(velocities, default=0)],
        "tempo_changes": tempo_changes,
        "pedals": pedals,
        "durations": len(set(durations)),
        "onset_steps": len(steps),
        "chord_share": len(chords) / max(onsets, 1),
        "chords_wider_than_an_octave": sum(max(c) - min(c) > 12 for c in chords),
        "common_durations": [d / GRID for d, _ in
                             collections.Counter(durations).most_common(5)],
    }


def main(argv: Sequence[str]) -> None:
    from absl import flags

    paths = sorted({p for pattern in flags.FLAGS.midi for p in glob.glob(pattern)})
    if not paths:
        raise UsageError(f"--midi {','.join(flags.FLAGS.midi)} matches no file; give MIDI files")
    pieces = []
    for path in paths:
        try:
            pieces.append(scores.select_instruments(scores.read_score(path), None))
        except scores.Unusable as e:
            print(f"warning: skipping {path}: {e}", file=sys.stderr)
    if not pieces:
        raise UsageError(f"--midi {','.join(flags.FLAGS.midi)}: no readable MIDI file with notes")
    f = describe(pieces)
    programs = ", ".join(f"{name} {n}" for name, n in f["programs"].items())
    print(f"{len(pieces)} file(s): {f['tracks']} tracks (notes by instrument: {programs}), "
          f"{f['notes']} notes, pitches {f['lowest']}-{f['highest']}, {f['velocities']} "
          f"distinct velocities ({f['velocity_range'][0]}-{f['velocity_range'][1]}), "
          f"{f['tempo_changes']} tempo changes, {f['pedals']} pedal presses, {f['durations']} "
          f"distinct note lengths (most common, in quarters: {f['common_durations']}), "
          f"{f['onset_steps']} distinct steps between onsets, {f['chord_share']:.0%} of onsets "
          f"are chords, {f['chords_wider_than_an_octave']} chords span more than an octave")


if __name__ == "__main__":
    from absl import flags

    from lstm_core.cli import run

    flags.DEFINE_multi_string("midi", None, "MIDI file(s) or glob(s) to describe.")
    flags.mark_flag_as_required("midi")
    run(main)
