"""Why sampled music is sparser than its corpus: the model's expected bar lines and notes.

    python benchmarks/music_density.py --model logs/quality --midi_dir ../shared/data/midi/piano

Runs a trained REMI model over the last 5% of the folder's tokens (its validation split) and adds
up, at every step, the probability of a ``Bar``, a note (``Pitch``/``PitchDrum``) and a
``Position`` token: as the model gives it, after the sampler's grammar masks every forbidden
token and spreads the mass over all the allowed ones, and after the masks with the mass kept
within each token type (`token_choice.within_groups`, what `sample.py` does). Against the true
counts: more bar lines than the data has means bars end early, hence fewer notes per bar.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tensorflow as tf  # noqa: E402

from lstm_core import load  # noqa: E402
from lstm_core.corpus import load_corpus  # noqa: E402
from lstm_core.music import constraints  # noqa: E402
from lstm_core.token_choice import within_groups  # noqa: E402

CHUNK = 500  # tokens per call of the model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a model folder")
    parser.add_argument("--midi_dir", required=True)
    args = parser.parse_args()
    trained = load(args.model)
    model, vocabulary = trained.model, trained.vocabulary
    tokens = load_corpus(args.midi_dir, "remi").tokens
    ids = vocabulary.encode(tokens[int(len(tokens) * 0.95):]).astype(np.int32)
    kinds = np.array([constraints.token_type(t) for t in vocabulary.tokens])
    masks = {"bar": kinds == "Bar", "note": np.isin(kinds, ["Pitch", "PitchDrum"]),
             "position": kinds == "Position"}
    grammar = constraints.grammar(vocabulary.tokens, vocabulary.metadata)
    membership = tf.one_hot(constraints.type_groups(vocabulary.tokens),
                            int(constraints.type_groups(vocabulary.tokens).max()) + 1)
    inputs, state, logits = ids[:-1], model.initial_state(1), []
    for start in range(0, len(inputs), CHUNK):
        chunk_logits, state = model(tf.constant(inputs[None, start:start + CHUNK]), state)
        logits.append(chunk_logits[0].numpy())
    logits = np.concatenate(logits)
    states, allowed = [g.start for g in grammar.factors], []
    for token in inputs:
        states = [int(g.next_state[s, token]) for g, s in zip(grammar.factors, states)]
        allowed.append(np.logical_and.reduce([g.allowed[s]
                                              for g, s in zip(grammar.factors, states)]))
    allowed = np.array(allowed)
    raw = tf.nn.softmax(logits).numpy()
    masked = tf.nn.softmax(np.where(allowed, logits, -np.inf)).numpy()
    grouped = tf.nn.softmax(tf.where(allowed, within_groups(logits, allowed, membership),
                                     -np.inf)).numpy()
    true = {name: int(mask[ids[1:]].sum()) for name, mask in masks.items()}
    print(f"{args.model} on the last 5% of {args.midi_dir}: {len(ids) - 1} steps")
    print(f"{'':9s} {'true':>7s} {'model':>15s} {'masked':>15s} {'within types':>15s}")
    expected = {}
    for name, mask in masks.items():
        expected[name] = [p[:, mask].sum() for p in (raw, masked, grouped)]
        print(f"{name:9s} {true[name]:7d} " + " ".join(
            f"{e:8.1f} ({e / true[name]:.2f}x)" for e in expected[name]))
    print(f"notes per bar: true {true['note'] / true['bar']:.2f}; " + ", ".join(
        f"{label} {n / b:.2f}" for label, n, b in zip(("model", "masked", "within types"),
                                                       expected["note"], expected["bar"])))


if __name__ == "__main__":
    main()
