"""Music defaults by measurement: train candidate setups on a MIDI folder, plot their validation.

    python benchmarks/music_defaults.py --midi_dir ../shared/data/midi/piano --steps 300 \\
        --plot docs/music_validation.png

Each candidate (`CANDIDATES`) trains with ``train.py`` for ``--steps`` steps in a scratch folder
(validation every 50 steps); the validation accuracy and bits per token of each are read back
from its TensorBoard logs, drawn with matplotlib, and printed beside the share of the most
frequent token (what a model that learned nothing scores). The last line is one JSON object.
``--logdir`` reuses the runs of an earlier call instead of training again.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# name → train.py flags; "defaults" is what train.py does with no flag (2 x 128 units,
# sequence 50, batch 50, learning rate 0.002, no dropout).
CANDIDATES = {
    "defaults": [],
    "wide": ["--units_number", "256", "--sequence_length", "100", "--learning_rate", "0.003",
             "--dropout", "0.1", "--batch_size", "32"],
}


def train(name: str, flags: list[str], midi_dir: str, steps: int, folder: Path) -> None:
        subprocess.run([sys.executable, str(ROOT / "train.py"), "--training_file", midi_dir,
                    "--model_name", name, "--max_steps", str(steps), "--validation_every", "50",
                    "--log_frequency", "50", "--sample_every", "0", "--histogram_frequency", "0",
                    *flags], cwd=folder, check=True)


def curves(folder: Path, name: str) -> dict[str, list[tuple[int, float]]]:
    """``{"accuracy": [(step, value)...], "bits_per_token": [...]}`` of a run's validation."""
    from tensorboard.backend.event_processing import event_accumulator

    events = event_accumulator.EventAccumulator(
        str(folder / "logs" / name / "validation"), size_guidance={"tensors": 0})
    events.Reload()
    import tensorflow as tf

    return {tag.split("/")[-1]: [(e.step, float(tf.make_ndarray(e.tensor_proto)))
                                 for e in events.Tensors(tag)]
            for tag in events.Tags()["tensors"] if tag.split("/")[-1] in ("accuracy",
                                                                           "bits_per_token")}


def most_frequent_share(folder: Path, name: str) -> float:
    vocabulary = json.loads((folder / "logs" / name / "vocabulary.vocab").read_text(
        encoding="utf-8"))
    counts = [count for _, count in vocabulary["tokens"]]
    return counts[0] / sum(counts)


def plot(results: dict, share: float, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (accuracy, bits) = plt.subplots(1, 2, figsize=(11, 4))
    for name, runs in results.items():
        accuracy.plot(*zip(*runs["accuracy"]), marker="o", label=name)
        bits.plot(*zip(*runs["bits_per_token"]), marker="o", label=name)
    accuracy.axhline(share, color="grey", linestyle="--", label="most frequent token")
    accuracy.set(xlabel="step", ylabel="validation accuracy", ylim=(0, 1))
    bits.set(xlabel="step", ylabel="validation bits per token")
    accuracy.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--midi_dir", default=str(ROOT.parent / "shared" / "data" / "midi"
                                                  / "piano"))
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--plot", default=None, help="PNG file to draw the curves in")
    parser.add_argument("--logdir", default=None, help="read the runs in this folder instead of training")
    args = parser.parse_args()
    folder = Path(args.logdir or tempfile.mkdtemp(prefix="music_defaults_"))
    if not args.logdir:
        for name, flags in CANDIDATES.items():
            train(name, flags, args.midi_dir, args.steps, folder)
    results = {name: curves(folder, name) for name in CANDIDATES
               if (folder / "logs" / name).exists()}
    share = most_frequent_share(folder, next(iter(results)))
    for name, runs in results.items():
        step, value = runs["accuracy"][-1]
        print(f"{name:10s} step {step}: validation accuracy {value:.3f}, "
              f"{runs['bits_per_token'][-1][1]:.3f} bits/token")
    print(f"most frequent token share {share:.3f}")
    if args.plot:
        plot(results, share, args.plot)
    print(json.dumps({"most_frequent_share": round(share, 4),
                      **{name: {"accuracy": runs["accuracy"][-1][1],
                                "bits_per_token": runs["bits_per_token"][-1][1],
                                "step": runs["accuracy"][-1][0]}
                         for name, runs in results.items()}}))


if __name__ == "__main__":
    main()
