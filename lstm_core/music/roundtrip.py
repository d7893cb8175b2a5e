"""How much of a MIDI corpus survives score → tokens → score.

    python -m lstm_core.music.roundtrip --midi_dir ../shared/data/midi/piano [--encoding remi]

Each file is read with symusic, tokenized with a fresh tokenizer of ``--encoding``, decoded and
compared with what was read, note by note, in quarter notes on the tokenizer's finest grid
(`ONSET_STEPS` per quarter). A note keeps ``pitch_onset`` when a decoded note of the same pitch
starts on the same step; ``duration`` when it also lasts the same length (to the step, to two
steps past `LONG` quarters); ``velocity`` when its velocity falls in the same of MidiTok's
velocity bins; ``program`` when it also keeps its General MIDI program. Drum notes are counted
apart (``drum_notes``: pitch and onset kept). The last line printed is one JSON object::

    {"files": 92, "notes": 180000, "pitch_onset": 0.998, "duration": 0.97, "velocity": 0.998,
     "program": 0.998, "drum_notes": null}
"""

from __future__ import annotations

import collections
import json
import sys
import time
from typing import Sequence

import numpy as np
import symusic

from lstm_core.errors import UsageError
from lstm_core.music import corpus, scores, tokenizer

ONSET_STEPS = 8  # per quarter note: REMI's positions per beat
LONG = 4  # quarters: longer durations are kept to half the resolution


def notes_of(score: symusic.Score, velocity_bins: np.ndarray) -> list[tuple]:
    """``(drum, program, pitch, onset step, duration step, velocity bin)`` of every note; a
    velocity halfway between two bins goes to the upper one, as MidiTok rounds it."""
    rows = []
    for track in score.tracks:
        notes = track.notes.numpy()
        quarters = notes["duration"] / score.ticks_per_quarter
        durations = np.where(quarters <= LONG, np.round(quarters * ONSET_STEPS),
                             2 * np.round(quarters * ONSET_STEPS / 2))
        onsets = np.round(notes["time"] * ONSET_STEPS / score.ticks_per_quarter)
        velocities = nearest(velocity_bins, notes["velocity"].astype(np.int64))
        rows += [(track.is_drum, track.program, *row) for row in
                 zip(notes["pitch"].tolist(), onsets.astype(int).tolist(),
                     durations.astype(int).tolist(), velocities.tolist())]
    return rows


def nearest(bins: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The value of `bins` (ascending) nearest each of `values`, halfway going up."""
    above = np.minimum(np.searchsorted(bins, values), len(bins) - 1)
    below = np.maximum(above - 1, 0)
    return np.where(values - bins[below] < bins[above] - values, bins[below], bins[above])


def measure(score: symusic.Score, music_tokenizer) -> collections.Counter:
    """Counts of ``notes``, ``drum_total`` and of each kept attribute for one score."""
    metadata = tokenizer.metadata_of(music_tokenizer)
    back = tokenizer.decode(tokenizer.encode(score, music_tokenizer), metadata)
    bins = np.asarray(music_tokenizer.velocities, np.int64)
    before, after = notes_of(score, bins), notes_of(back, bins)
    pitched = [r for r in before if not r[0]]
    counts = collections.Counter(notes=len(before), pitched=len(pitched),
                                 drum_total=len(before) - len(pitched))
    for name, fields in {"pitch_onset": (2, 3), "duration": (2, 3, 4), "velocity": (2, 3, 5),
                         "program": (1, 2, 3)}.items():
        counts[name] = _common([tuple(r[i] for i in fields) for r in pitched],
                               [tuple(r[i] for i in fields) for r in after if not r[0]])
    counts["drum_notes"] = _common([r[2:4] for r in before if r[0]],
                                   [r[2:4] for r in after if r[0]])
    return counts


def _common(a: list, b: list) -> int:
    """How many items of `a` are in `b`, counting repeats (a multiset intersection)."""
    return sum((collections.Counter(a) & collections.Counter(b)).values())


def summary(totals: collections.Counter, files: int) -> dict:
    """The JSON object of the module docstring."""
    pitched = max(totals["pitched"], 1)
    return {"files": files, "notes": totals["notes"],
            **{name: round(totals[name] / pitched, 4)
               for name in ("pitch_onset", "duration", "velocity", "program")},
            "drum_notes": (round(totals["drum_notes"] / totals["drum_total"], 4)
                           if totals["drum_total"] else None)}


def main(argv: Sequence[str]) -> None:
    from absl import flags

    start = time.perf_counter()
    music_tokenizer = tokenizer.build(flags.FLAGS.encoding)
    if music_tokenizer == tokenizer.NOTES:
        raise UsageError("--encoding notes keeps no rhythm to measure; give remi, tsd or "
                         "midilike")
    files = corpus.source_files(flags.FLAGS.midi_dir, "--midi_dir")
    totals, used = collections.Counter(), 0
    for path in files:
        try:
            totals += measure(scores.read_score(path), music_tokenizer)
            used += 1
        except scores.Unusable as e:
            print(f"warning: skipping {path}: {e}", file=sys.stderr)
    if not totals["notes"]:
        raise UsageError(f"--midi_dir {flags.FLAGS.midi_dir}: no file with notes to measure")
    print(f"{used} files, {totals['notes']:,} notes, {flags.FLAGS.encoding}, "
          f"{time.perf_counter() - start:.1f} s")
    print(json.dumps(summary(totals, used)))


if __name__ == "__main__":
    from absl import flags

    from lstm_core.cli import run

    flags.DEFINE_string("midi_dir", None, "MIDI folder, file or glob to measure.")
    flags.DEFINE_enum("encoding", tokenizer.DEFAULT, [e for e in tokenizer.ENCODINGS
                                                      if e != tokenizer.NOTES],
                      "The MidiTok encoding to measure.")
    flags.mark_flag_as_required("midi_dir")
    run(main)
