"""The sampler: one token per step, the LSTM state carried, the whole loop compiled.

A sliding-window generator re-runs the last 50 or 100 tokens for every new token. Here the
primer runs through the model once, and then each step feeds only the last token and the state,
inside a `tf.while_loop` compiled by XLA (one call per chunk of `chunk_length` tokens, progress
reported between calls): the cost of a token does not grow with anything.

Choosing the next token from the logits ``l`` `[streams, vocabulary]`:
- greedy: ``argmax l``;
- otherwise ``l / temperature``, keep the ``top_k`` largest (0: all), keep the smallest set of
  tokens whose probability adds up to ``top_p`` (1.0: all), and draw one by the Gumbel-max
  trick (``argmax(l + g)``, ``g = -log(-log(u))``), which equals a draw from ``softmax(l)``.
Every draw uses a stateless seed derived from ``(random_seed, position)``: the same seed gives the
same text, however the loop is cut into chunks.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import tensorflow as tf

from lstm_core.model import LanguageModel


class Sampler:
    def __init__(self, model: LanguageModel, temperature: float = 1.0, top_k: int = 0,
                 top_p: float = 1.0, greedy: bool = False, chunk_length: int = 1000):
        """`chunk_length` tokens are generated per compiled call (progress is reported between
        calls)."""
        self.model, self.temperature, self.top_k, self.top_p, self.greedy = (
            model, temperature, top_k, top_p, greedy)
        self.chunk_length = chunk_length
        self._prime = tf.function(self._prime_state, jit_compile=True)
        self._chunk = tf.function(self._generate_chunk, jit_compile=True)

    def choose(self, logits: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        """Next token ids `[streams]` from logits `[streams, vocabulary]`."""
        if self.greedy:
            return tf.argmax(logits, axis=-1, output_type=tf.int32)
        logits = logits / self.temperature
        excluded = tf.fill(tf.shape(logits), -np.inf)
        if 0 < self.top_k < logits.shape[-1]:
            kth_largest = tf.math.top_k(logits, self.top_k).values[:, -1:]
            logits = tf.where(logits < kth_largest, excluded, logits)
        if self.top_p < 1.0:
            descending = tf.sort(logits, axis=-1, direction="DESCENDING")
            mass_before = tf.cumsum(tf.nn.softmax(descending), axis=-1, exclusive=True)
            kept = tf.where(mass_before < self.top_p, descending, np.inf)
            logits = tf.where(logits < tf.reduce_min(kept, axis=-1, keepdims=True), excluded,
                              logits)
        uniform = tf.random.stateless_uniform(tf.shape(logits), seed, minval=1e-20, maxval=1.0)
        return tf.argmax(logits - tf.math.log(-tf.math.log(uniform)), axis=-1,
                         output_type=tf.int32)

    def _prime_state(self, primer: tf.Tensor):
        """Runs all but the last primer token through the model: the state to start from."""
        state = self.model.initial_state(tf.shape(primer)[0])
        _, state = self.model(primer[:, :-1], state)
        return state

    def _generate_chunk(self, token, state, seed, position):
        tokens = tf.TensorArray(tf.int32, size=self.chunk_length)
        for t in tf.range(self.chunk_length):
            logits, state = self.model.step(token, state)
            token = self.choose(logits, tf.random.experimental.stateless_fold_in(
                seed, position + tf.cast(t, tf.int64)))
            tokens = tokens.write(t, token)
        return tf.transpose(tokens.stack()), token, state

    def generate(self, primer: np.ndarray, length: int, random_seed: int = 0,
                 progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """Continues each primer.

        Args:
          primer: token ids `[streams, primer_length]`, at least one token per stream.
          length: how many tokens to generate per stream.
          random_seed: the same seed gives the same tokens.
          progress: called as ``progress(done, length)`` after every chunk.
        Returns:
          the generated ids `[streams, length]`, without the primer.
        """
        primer = tf.constant(primer, tf.int32)
        state = (self._prime(primer) if primer.shape[1] > 1
                 else self.model.initial_state(primer.shape[0]))
        token = primer[:, -1]
        seed = tf.constant([random_seed, 0], tf.int64)
        chunks = []
        for position in range(0, length, self.chunk_length):
            tokens, token, state = self._chunk(token, state, seed, tf.constant(position, tf.int64))
            chunks.append(tokens.numpy())
            if progress:
                progress(min(position + self.chunk_length, length), length)
        return np.concatenate(chunks, axis=1)[:, :length]
