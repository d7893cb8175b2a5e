"""The model's forward pass with every activation kept: what TensorBoard's gate histograms
(`lstm_core.summaries`) and the inspection page (`lstm_core.inspection`) look at.

It recomputes each layer from the cell's own variables through `lstm_core.cell.lstm_activations`,
the step that `lstm_step` runs, so the trace is the model's computation, not a copy of it
(`tests/test_summaries.py` checks the logits and the top layer's final cell state equal the
model's own).
"""

from __future__ import annotations

import tensorflow as tf

from lstm_core.cell import LSTMActivations, LSTMCell, LSTMState, lstm_activations
from lstm_core.model import LanguageModel, lstm_part


def trace_layer(cell: LSTMCell, inputs: tf.Tensor, state: LSTMState) -> LSTMActivations:
    """Runs one cell over time-major `inputs` `[time, batch, input]`, keeping every activation
    (each `[time, batch, units]`)."""

    def step(previous: LSTMActivations, z_t: tf.Tensor) -> LSTMActivations:
        return lstm_activations(z_t, LSTMState(previous.hidden, previous.cell),
                                cell.recurrent_kernel)

    zeros = tf.zeros_like(state.hidden)
    return tf.scan(step, cell.gate_inputs(inputs),
                   initializer=LSTMActivations(zeros, zeros, zeros, zeros, state.cell,
                                               state.hidden))


def trace_model(model: LanguageModel, tokens: tf.Tensor
                ) -> tuple[list[tf.Tensor], list[LSTMActivations], tf.Tensor]:
    """The model's forward pass from a zero state (no dropout) with every layer's activations.

    Args:
      tokens: token ids `[batch, time]`.
    Returns:
      each layer's input `[time, batch, features]` (for layer 0 the embedded tokens, plus the
      lookback contribution if the model has one: `trace_lookback`), each
      layer's `LSTMActivations` over time, and the logits `[batch, time, vocabulary]` (through
      the attention, if the model has one: `trace_attention`).
    """
    initial = model.initial_state(tf.shape(tokens)[0])
    inputs, _ = model.inputs(tokens, initial)
    layer_inputs, traces = [], []
    for cell, layer_state in zip(model.lstm.cells, lstm_part(initial)):
        layer_inputs.append(inputs)
        trace = trace_layer(cell, inputs, layer_state)
        traces.append(trace)
        inputs = trace.hidden
    if model.attention is not None:
        inputs, _ = trace_attention(model, inputs)
    return layer_inputs, traces, model.logits(inputs)


def trace_attention(model: LanguageModel, top_hidden: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """The attention of a model that has one over the top layer's outputs `[time, batch,
    units]` from a zero window: its outputs (the same shape) and weights `[batch, time, N]`
    (``[:, t, j]``: on the output ``N - j`` steps before ``t``)."""
    window = model.attention.initial_window(tf.shape(top_hidden)[1])
    outputs, _, alignments = model.attention.sequence(top_hidden, window)
    return outputs, alignments


def trace_lookback(model: LanguageModel, tokens: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """The lookback contribution of a model that has one for `tokens` `[batch, time]` from an
    empty bar memory, and the tokens' embeddings it is added to (each `[time, batch,
    embedding]`)."""
    time_major = tf.transpose(tokens)
    contribution, _, _ = model.lookback.sequence(
        time_major, model.lookback.initial_memory(tf.shape(tokens)[0]))
    return contribution, tf.gather(model.embedding, time_major)
