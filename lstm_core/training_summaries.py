"""What a training run writes to TensorBoard besides its scalars: the HParams of the run, the
LSTM's internals every ``histogram_frequency`` steps, and a generated sample every
``sample_every`` steps (trainer hooks)."""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from lstm_core import summaries
from lstm_core.batch import Batch
from lstm_core.kinds import Family
from lstm_core.preprocessing import Vocabulary
from lstm_core.sampler import Sampler
from lstm_core.trainer import Trainer
from lstm_core.training_options import TrainOptions

# Options recorded for TensorBoard's HParams dashboard (runs compare side by side).
HPARAM_OPTIONS = ("units", "layers", "embedding_size", "dropout", "batch_size",
                  "sequence_length", "learning_rate", "learning_rate_decay", "gradient_clip",
                  "shuffle", "random_seed", "epochs", "max_steps", "attention_length",
                  "lookback")


def add_internals_summaries(trainer: Trainer, options: TrainOptions, train: Batch,
                            validation: Batch | None, model_root: str) -> None:
    """HParams of the run, and the internals hook every ``histogram_frequency`` steps."""
    if trainer.is_chief:
        hparams = {name: getattr(options, name) for name in HPARAM_OPTIONS}
        hparams["training_file"] = os.path.basename(os.path.normpath(options.training_file
                                                                     or "default corpus"))
        summaries.write_hparams(model_root, hparams)
    if options.histogram_frequency:
        hook = summaries.InternalsSummaries(trainer, *summaries.fixed_batch(validation, train))
        trainer.hooks.append((options.histogram_frequency, hook))


def sample_summary(model, vocabulary: Vocabulary, ids: np.ndarray):
    """A hook that writes a short generated sample to TensorBoard, primed by the corpus start:
    text under the Text tab; music as audio and a piano roll."""
    sampler = Sampler(model, temperature=0.9, chunk_length=200)

    def write(step: int) -> None:
        tokens = vocabulary.decode(
            sampler.generate(np.asarray(ids[None, :20], "int32"), 200, random_seed=step)[0])
        if vocabulary.family is Family.MUSIC:
            from lstm_core.music.summaries import write_sample_summaries

            write_sample_summaries(tokens, vocabulary.metadata, step)
        else:
            text = tokens if vocabulary.is_text else " ".join(tokens)  # jazz: one token a word
            tf.summary.text("sample", "```\n" + text + "\n```")

    return write
