"""How much of a MIDI corpus survives MIDI → events → MIDI.

    python -m lstm_core.music.roundtrip --midi_dir ../shared/data/midi/piano

Each file's notes are read on the grid and made `playable` (the reference: a key struck twice at
once counts once, a key struck again ends its sounding note), encoded as events, decoded, written
with `write_midi` and read back. A note is kept when a note of the same pitch, onset and duration
comes back; the figure is kept notes / reference notes over the whole folder. Also printed: the
share keeping pitch and onset (durations past a half note are rounded by the encoding), the notes
that `playable` merged, and the time taken.
"""

from __future__ import annotations

import collections
import tempfile
import time
from pathlib import Path
from typing import Sequence

from lstm_core.errors import UsageError
from lstm_core.music import corpus, events, scores


def measure(path: Path, instruments: str = "merge") -> collections.Counter:
    """Counts of ``read``, ``reference``, ``kept`` and ``kept_onsets`` notes for one file."""
    piece = scores.read_file(path, instruments)
    reference = events.playable(piece.notes)
    metadata = {"encoding": "events", "tempo": piece.tempo, "time_signature": piece.time_signature}
    with tempfile.TemporaryDirectory() as scratch:
        written = Path(scratch) / "roundtrip.mid"
        scores.write_midi(events.encode(piece.notes), metadata, str(written))
        back = scores.read_file(written).notes
    return collections.Counter(
        read=len(piece.notes), reference=len(reference), kept=_common(reference, back),
        kept_onsets=_common([n[:2] for n in reference], [n[:2] for n in back]))


def _common(a: list, b: list) -> int:
    """How many items of `a` are in `b`, counting repeats (a multiset intersection)."""
    return sum((collections.Counter(a) & collections.Counter(b)).values())


def main(argv: Sequence[str]) -> None:
    from absl import flags

    start = time.perf_counter()
    files = corpus.source_files(flags.FLAGS.midi_dir, "--midi_dir")
    totals = collections.Counter()
    for path in files:
        try:
            totals += measure(path, flags.FLAGS.instruments)
        except Exception as e:  # a broken file can fail the parser in any way: skip it
            print(f"warning: skipping {path}: {e}")
    seconds = time.perf_counter() - start
    r = totals["reference"]
    if not r:
        raise UsageError(f"--midi_dir {flags.FLAGS.midi_dir}: no file with notes to measure")
    print(f"{len(files)} files, {totals['read']:,} notes read, {r:,} as one piano plays them "
          f"({totals['read'] - r:,} doubled notes merged)")
    print(f"round trip MIDI -> events -> MIDI: {totals['kept'] / r:.2%} of notes keep pitch, onset "
          f"and duration on the {events.TICKS_PER_QUARTER}-ticks-per-quarter grid; "
          f"{totals['kept_onsets'] / r:.2%} keep pitch and onset")
    print(f"time: {seconds:.1f} s ({1000 * seconds / len(files):.0f} ms per file, one process)")


if __name__ == "__main__":
    from absl import flags

    from lstm_core.cli import run

    flags.DEFINE_string("midi_dir", None, "MIDI folder, file or glob to measure.")
    flags.DEFINE_string("instruments", "merge", "merge, first, or a word of the track names.")
    flags.mark_flag_as_required("midi_dir")
    run(main)
