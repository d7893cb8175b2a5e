"""What a music model writes, judged against its corpus: train, sample, evaluate.

    python benchmarks/music_quality.py --midi_dir ../shared/data/midi/piano --steps 300

Trains the default model (``train.py`` with no model flag) on ``--midi_dir`` for ``--steps``
steps in a scratch folder, samples ``--pieces`` pieces of ``--bars`` bars with ``sample.py``,
and prints `lstm_core.music.evaluate`'s table: the pieces against real excerpts of the folder of
the same length (the ceiling). The last line is one JSON object. ``--logdir`` reuses the model
of an earlier call (same folder) instead of training again. ``--train_flags`` adds flags to
``train.py`` (``--train_flags="--attention_length 64"``), to measure an option against the
default.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lstm_core.music import evaluate, scores  # noqa: E402  (the repository, not an install)
from lstm_core.music.constants import EXCERPT_SEED, EXCERPTS  # noqa: E402

MODEL = "quality"


def train(midi_dir: str, steps: int, folder: Path, flags: list[str]) -> None:
    subprocess.run([sys.executable, str(ROOT / "train.py"), "--training_file", midi_dir,
                    "--model_name", MODEL, "--max_steps", str(steps), "--log_frequency", "50",
                    "--sample_every", "0", "--histogram_frequency", "0", *flags], cwd=folder,
                   check=True)


def sample(pieces: int, bars: int, seed: int, folder: Path) -> list[Path]:
    """The MIDI files of `pieces` pieces of `bars` bars, drawn with `seed`."""
    output = folder / f"piece-{bars}-bars-seed-{seed}.mid"
    subprocess.run([sys.executable, str(ROOT / "sample.py"), "--model_name", MODEL,
                    "--output_file", str(output), "--num_samples", str(pieces), "--bars",
                    str(bars), "--random_seed", str(seed), "--overwrite"], cwd=folder, check=True)
    if pieces == 1:
        return [output]
    return [output.with_name(f"{output.stem}-{n}{output.suffix}") for n in range(1, pieces + 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--midi_dir", default=str(ROOT.parent / "shared" / "data" / "midi"
                                                  / "piano"))
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--pieces", type=int, default=3)
    parser.add_argument("--bars", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1, help="seed of the sampled pieces")
    parser.add_argument("--excerpts", type=int, default=EXCERPTS)
    parser.add_argument("--train_flags", default="",
                        help="more flags for train.py, in one string")
    parser.add_argument("--logdir", default=None,
                        help="a folder of an earlier call: sample its model, do not train "
                        "(--steps then only labels the table)")
    args = parser.parse_args()
    folder = Path(args.logdir or tempfile.mkdtemp(prefix="music_quality_"))
    if not args.logdir:
        train(args.midi_dir, args.steps, folder, shlex.split(args.train_flags))
    paths = sample(args.pieces, args.bars, args.seed, folder)
    reference, skipped = evaluate.read_reference(args.midi_dir, "--midi_dir")
    result = evaluate.evaluate([scores.read_score(p) for p in paths], reference, args.bars,
                               args.excerpts, EXCERPT_SEED)
    print(f"{folder}: default model{' ' + args.train_flags if args.train_flags else ''}, "
          f"{args.steps} steps on {args.midi_dir} "
          f"({len(reference)} files, {len(skipped)} skipped)")
    print(evaluate.format_table(result))
    print(json.dumps({"steps": args.steps, "midi_dir": args.midi_dir,
                      "train_flags": args.train_flags, **result}))


if __name__ == "__main__":
    main()
