"""Beam search over sampled streams (Magenta's `--beam_size`, `--branch_factor`,
`--steps_per_iteration`).

Each sample runs ``beam_size * branch_factor`` streams, side by side in the batch (sample ``s``
owns rows ``s * streams_per_sample ...``). Every ``steps_per_iteration`` tokens the
``beam_size`` streams of highest log-likelihood are kept and each is copied ``branch_factor``
times (the copies then draw different tokens); the first iteration is shortened so that the last
one ends with the sample, where a pruning would otherwise be wasted. The sample is the stream of
highest log-likelihood at the end, traced back through the copies. With
``beam_size = branch_factor = 1`` it is plain sampling.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


class BeamSearch:
    """Which stream each stream continues, in the compiled loop; the best stream, traced back
    afterwards in numpy."""

    def __init__(self, beam_size: int = 1, branch_factor: int = 1, steps_per_iteration: int = 1):
        for name, value in (("beam_size", beam_size), ("branch_factor", branch_factor),
                            ("steps_per_iteration", steps_per_iteration)):
            if value < 1:
                raise ValueError(f"{name} is {value}; it must be at least 1")
        self.beam_size, self.branch_factor = beam_size, branch_factor
        self.steps_per_iteration = steps_per_iteration

    @property
    def streams_per_sample(self) -> int:
        return self.beam_size * self.branch_factor

    @property
    def is_beam_search(self) -> bool:
        return self.streams_per_sample > 1

    def first_iteration(self, length: int) -> int:
        """The tokens before the first pruning of a sample of `length` tokens, so that the last
        iteration ends with the sample."""
        return (length - 1) % self.steps_per_iteration + 1

    def continued_rows(self, step: tf.Tensor, log_likelihood: tf.Tensor, length: tf.Tensor,
                       first_iteration: tf.Tensor) -> tf.Tensor:
        """The stream `[streams]` each stream continues at int64 `step`: after a pruning, the
        kept streams' copies; else each itself (and past the sample's `length`, whose
        log-likelihoods stop moving, nothing is pruned)."""
        own = tf.range(tf.shape(log_likelihood)[0])
        pruning = ((step >= first_iteration) & (step < length)
                   & ((step - first_iteration) % self.steps_per_iteration == 0))
        return tf.where(pruning, self._kept_rows(log_likelihood), own)

    def _kept_rows(self, log_likelihood: tf.Tensor) -> tf.Tensor:
        """Each sample's `beam_size` likeliest streams of `log_likelihood` `[streams]`, each
        copied `branch_factor` times: row indices `[streams]`."""
        per_sample = tf.reshape(log_likelihood, [-1, self.streams_per_sample])
        kept = tf.math.top_k(per_sample, self.beam_size).indices  # [samples, beam]
        first = tf.range(tf.shape(per_sample)[0]) * self.streams_per_sample
        return tf.reshape(tf.repeat(kept, self.branch_factor, axis=1) + first[:, None], [-1])

    def trace(self, tokens: np.ndarray, parents: np.ndarray, log_likelihood: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
        """Each sample's likeliest stream at the end, traced back through the copies.

        Args:
          tokens: int32 `[streams, length]`; parents: the stream each stream continued at each
            step `[streams, length]`; log_likelihood: at the end `[streams]`.
        Returns:
          ids int32 `[samples, length]` and their log-likelihoods `[samples]`.
        """
        length = tokens.shape[1]
        per_sample = log_likelihood.reshape(-1, self.streams_per_sample)
        row = np.argmax(per_sample, axis=1) + np.arange(len(per_sample)) * self.streams_per_sample
        traced = np.empty([len(row), length], np.int32)
        for t in range(length - 1, -1, -1):
            traced[:, t] = tokens[row, t]
            row = parents[row, t]
        return traced, per_sample.max(axis=1)
