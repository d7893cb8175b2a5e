"""Attention over the last steps: the top LSTM layer's output looks back at its own recent outputs.

An LSTM must hold a motif in its cell state to play it again; attention lets it read the motif
back from where it was written (the attention RNN of Magenta's Melody RNN, an attentive LSTM
language model). For the top layer's output ``h_t`` `[batch, units]` and the window of its
``N`` previous outputs ``m_j = h_{t-N+j}`` (``j = 0 … N-1``, the most recent last;
`[batch, N, units]`), one step computes::

    e_tj = (h_t W_q) · m_j / sqrt(units) + p_j     scores `[batch, N]`
    a_t  = softmax_j(e_t)                          attention weights over the window `[batch, N]`
    c_t  = sum_j a_tj m_j                          context `[batch, units]`
    h'_t = tanh([h_t; c_t] W_o + b_o)              the output, `[batch, units]`

``W_q`` `[units, units]` (Luong's "general" score), ``p`` `[N]` a learned bias per lag (scores
alone see what was played, not how long ago; ``p`` lets the model prefer, say, the previous
bar), ``W_o`` `[2*units, units]`, ``b_o`` `[units]`; ``h'_t`` replaces ``h_t`` before the output
projection. The window then drops ``m_0`` and appends ``h_t``. A stream starts from a window of
zeros, which the weights may also choose: they read as "nothing to repeat".

Scores are dot products rather than Bahdanau's additive ``v · tanh(W_1 h_t + W_2 m_j)``: over
a sequence they are one matmul against the window and the outputs with a band mask, where the
additive form needs a `[batch, time, N, units]` tensor of every pair. `attention_step` is the
pure step (the sampler's); `attention_sequence` the same attention for every step of a sequence
at once (training's), each query ``t`` reading the band ``t … t+N-1`` of
``concat(window, outputs)``. The LSTM below is untouched, so its fused backward pass still runs.
"""

from __future__ import annotations

from typing import NamedTuple

import tensorflow as tf

from lstm_core.cell import glorot_uniform
from lstm_core.stack import StackState


class AttentiveState(NamedTuple):
    """What a model with attention carries from one step to the next."""

    lstm: StackState  # each layer's hidden and cell state
    window: tf.Tensor  # the top layer's last N outputs, oldest first: [batch, N, units]


class AttentionWeights(NamedTuple):
    """The tensors of the equations in the module docstring."""

    query_kernel: tf.Tensor  # W_q [units, units]
    lag_bias: tf.Tensor  # p [N]
    output_kernel: tf.Tensor  # W_o [2*units, units]
    output_bias: tf.Tensor  # b_o [units]


def combined(hidden: tf.Tensor, context: tf.Tensor, weights: AttentionWeights) -> tf.Tensor:
    """``h' = tanh([h; c] W_o + b_o)`` for `hidden` and `context` `[..., units]`."""
    return tf.tanh(tf.einsum("...v,vu->...u", tf.concat([hidden, context], -1),
                             weights.output_kernel) + weights.output_bias)


def attention_step(hidden: tf.Tensor, window: tf.Tensor, weights: AttentionWeights
                   ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """One step.

    Args:
      hidden: ``h_t`` `[batch, units]`; window: ``m`` `[batch, N, units]`.
    Returns:
      ``h'_t`` `[batch, units]`, the next window `[batch, N, units]` and the weights ``a_t``
      `[batch, N]`.
    """
    units = tf.cast(tf.shape(hidden)[-1], hidden.dtype)
    query = tf.matmul(hidden, weights.query_kernel)
    scores = tf.einsum("bu,bnu->bn", query, window) / tf.sqrt(units) + weights.lag_bias
    alignments = tf.nn.softmax(scores)
    context = tf.einsum("bn,bnu->bu", alignments, window)
    return (combined(hidden, context, weights), tf.concat([window[:, 1:], hidden[:, None]], 1),
            alignments)


def attention_sequence(hidden: tf.Tensor, window: tf.Tensor, weights: AttentionWeights
                       ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """`attention_step` at every step of a sequence, computed at once.

    The memory ``concat(window, outputs)`` `[batch, N+time, units]` holds at position ``s`` the
    output of step ``s-N``; step ``t`` reads positions ``t … t+N-1``, a band of the
    `[time, N+time]` score matrix whose lag ``j`` is ``s - t``.

    Args:
      hidden: the top layer's outputs, time-major `[time, batch, units]`; window: the window
        before the first step `[batch, N, units]`.
    Returns:
      ``h'`` time-major `[time, batch, units]`, the window after the last step, and the weights
      `[batch, time, N]` (``[:, t, j]``: on the output of step ``t-N+j``).
    """
    steps, length = tf.shape(hidden)[0], tf.shape(window)[1]
    outputs = tf.transpose(hidden, [1, 0, 2])  # [batch, time, units]
    memory = tf.concat([window, outputs], 1)
    units = tf.cast(tf.shape(hidden)[-1], hidden.dtype)
    scores = tf.einsum("btu,bsu->bts", tf.matmul(outputs, weights.query_kernel), memory)
    lag = tf.range(length + steps)[None, :] - tf.range(steps)[:, None]  # [time, N+time]: s - t
    in_band = (lag >= 0) & (lag < length)
    scores = scores / tf.sqrt(units) + tf.gather(weights.lag_bias, tf.clip_by_value(
        lag, 0, length - 1))
    alignments = tf.nn.softmax(tf.where(in_band, scores, -1e30))
    output = combined(outputs, tf.einsum("bts,bsu->btu", alignments, memory), weights)
    # Each step's N weights: row t of the band, positions t … t+N-1.
    band = tf.range(steps)[:, None] + tf.range(length)[None, :]  # [time, N]
    banded = tf.gather(tf.transpose(alignments, [1, 0, 2]), band, axis=2, batch_dims=1)
    return (tf.transpose(output, [1, 0, 2]), memory[:, steps:],
            tf.transpose(banded, [1, 0, 2]))


class Attention(tf.Module):
    """The weights of the attention and its initial window."""

    def __init__(self, units: int, length: int, rng: tf.random.Generator,
                 name: str = "attention"):
        """`length`: ``N``, the steps the window holds; `rng` draws the initial weights."""
        super().__init__(name=name)
        self.units, self.length = units, length
        with self.name_scope:
            self.query_kernel = tf.Variable(glorot_uniform(rng, units, units),
                                            name="query_kernel")
            self.lag_bias = tf.Variable(tf.zeros([length]), name="lag_bias")
            self.output_kernel = tf.Variable(glorot_uniform(rng, 2 * units, units),
                                             name="output_kernel")
            self.output_bias = tf.Variable(tf.zeros([units]), name="output_bias")

    @property
    def weights(self) -> AttentionWeights:
        return AttentionWeights(self.query_kernel, self.lag_bias, self.output_kernel,
                                self.output_bias)

    def initial_window(self, batch_size) -> tf.Tensor:
        """Zeros `[batch, N, units]`."""
        return tf.zeros([batch_size, self.length, self.units])

    def step(self, hidden: tf.Tensor, window: tf.Tensor):
        """`attention_step` with these weights."""
        return attention_step(hidden, window, self.weights)

    def sequence(self, hidden: tf.Tensor, window: tf.Tensor):
        """`attention_sequence` with these weights."""
        return attention_sequence(hidden, window, self.weights)
