"""A validation: the model's loss and accuracy over a bounded sample of the held-out split.

A validation reads at most `validation_tokens` tokens: the most whole batches within them,
spread over the whole split and the same every time (`Batch.sample`, seeded), so that two
validations compare and a long split does not stall training. Every worker reads the same
sample and takes the same decisions from it; the chief alone reports it.
"""

from __future__ import annotations

from typing import Callable

import tensorflow as tf

from lstm_core.batch import Batch
from lstm_core.errors import UsageError
from lstm_core.model import LanguageModel
from lstm_core.train_step import LOG2, summed_loss_and_correct


def bounded_sample(validation: Batch | None, tokens: int, seed: int) -> Batch | None:
    """The batches a validation reads: `validation.sample(tokens, seed)`, or the whole split
    when `tokens` is 0 (None: no validation split)."""
    if tokens < 0:
        raise UsageError(f"--validation_tokens is {tokens}; give a count of tokens, or 0 to "
                         "validate on the whole split")
    return validation.sample(tokens, seed) if validation and tokens else validation


class Validation:
    def __init__(self, model: LanguageModel, batches: Batch, is_chief: bool):
        """
        Args:
          batches: the held-out batches to read (`bounded_sample`), from a zero state.
          is_chief: whether this worker reports the validation line.
        """
        self.model, self.batches, self.is_chief = model, batches, is_chief
        # `(inputs [batch, time], targets [batch, time], state) -> (summed loss, correct,
        # state)`, compiled once for every validation.
        self.evaluate = tf.function(self._evaluate_batch, jit_compile=True)

    def _evaluate_batch(self, inputs, targets, state):
        logits, state = self.model(inputs, state)
        return (*summed_loss_and_correct(logits, targets), state)

    def run(self, step: int, writer: Callable[[], tf.summary.SummaryWriter],
            report: Callable[[str], None] = lambda line: None,
            abandon: Callable[[], bool] | None = None) -> dict:
        """Loss, bits per token and accuracy over the batches, and how many tokens they hold
        (`validation_loss`, `validation_bits_per_token`, `validation_accuracy`,
        `validation_tokens`), written to `writer()` at `step` (a TensorBoard writer, made once
        there is something to write) and reported (by the chief) as
        one line through `report`. Empty when `abandon()` turns true between two batches (a
        stop asked for: nothing is written or reported)."""
        batches = self.batches
        state = self.model.initial_state(batches.batch_size)
        total_loss = total_correct = 0.0
        for inputs, targets in batches.dataset():
            if abandon and abandon():
                return {}
            loss, correct, state = self.evaluate(inputs, targets, state)
            total_loss, total_correct = total_loss + float(loss), total_correct + float(correct)
        tokens = batches.num_batches * batches.batch_size * batches.sequence_length
        metrics = {"validation_loss": total_loss / tokens,
                   "validation_bits_per_token": total_loss / tokens / LOG2,
                   "validation_accuracy": total_correct / tokens, "validation_tokens": tokens}
        with writer().as_default(step=step):
            for name in ("loss", "bits_per_token", "accuracy", "tokens"):
                tf.summary.scalar(name, metrics["validation_" + name])
        if self.is_chief:
            report(f"step {step} validation: loss {metrics['validation_loss']:.4f}, bits/token "
                   f"{metrics['validation_bits_per_token']:.3f}, accuracy "
                   f"{metrics['validation_accuracy']:.3f} ({tokens:,} tokens)")
        return metrics
