"""The LSTM recurrence with its backward pass written by hand (the fast path for training).

`LSTMCell.unroll` lets TensorFlow differentiate the loop over time; autodiff then keeps a copy
of every intermediate and accumulates ``dU`` inside the backward loop with one small matmul per
step. Here the forward loop saves, per step, only the factors the backward step multiplies by
(computed while the gates are at hand), and the backward loop (as in torch-rnn's ``LSTM.lua``
and cuDNN) only propagates ``dh`` and ``dc`` through time; the weight gradients are one large
matmul after the loop. `lstm_layer` (a layer fed by the layer below) also owns its input
projection ``x W + b``, so that ``dW`` and ``dU`` share that matmul; `lstm_recurrence` (the
first layer, whose ``x W + b`` is a row of a folded embedding table) takes ``x W + b`` as given.

Backward, for t = T..1, given ``dh_t`` (from the layer above plus from step t+1) and ``dc_t``::

    do = dh_t * tanh(c_t)
    dc = dc_t + dh_t * o * (1 - tanh(c_t)^2)
    di, df, dg = dc * g, dc * c_{t-1}, dc * i
    dz_t = [di * i(1-i), df * f(1-f), dg * (1-g^2), do * o(1-o)]     [batch, 4*units]
    dh_{t-1} = dz_t U^T,   dc_{t-1} = dc * f
    after the loop: [dW; dU] = [X, H_prev]^T dZ                      one matmul over time*batch
                    dX = dZ W^T,   db = sum dZ

The gates come from one sigmoid over all four blocks, ``g = 2 sigmoid(2 z_g) - 1 = tanh(z_g)``.
`tests/test_cell.py` and `tests/test_fast_paths.py` check it against `LSTMCell.unroll` and
finite differences.
"""

from __future__ import annotations

import tensorflow as tf

from lstm_core.cell import LSTMState


def _gate_scale(units: int, dtype: tf.DType) -> tf.Tensor:
    """`[4*units]`: 1 on the sigmoid gates i, f, o and 2 on the candidate g."""
    return tf.repeat(tf.constant([1.0, 1.0, 2.0, 1.0], dtype), units)


def _all_gates(z: tf.Tensor, scale: tf.Tensor) -> tf.Tensor:
    """The four activations ``[i, f, g, o]`` `[batch, 4*units]` with one sigmoid.

    ``tanh(x) = 2 sigmoid(2x) - 1``: one transcendental over the whole `[batch, 4*units]` block
    (one XLA fusion, each value computed once) rather than four ops over its quarters, which XLA
    fuses into their consumers and evaluates more than once.
    """
    s = tf.sigmoid(z * scale)
    return s * scale - (scale - 1.0)  # i, f, o unchanged; g = 2 s - 1


def _forward(gate_inputs: tf.Tensor, hidden: tf.Tensor, cell: tf.Tensor,
             recurrent_kernel: tf.Tensor):
    """The loop over time: hidden states `[time, batch, units]`, the final cell state, and
    what `_backward_through_time` needs (per step: forget gate, slope of h in c, partners)."""
    scale = _gate_scale(recurrent_kernel.shape[0] or tf.shape(recurrent_kernel)[0],
                        gate_inputs.dtype)

    def forward_step(carry, z_t):
        h, c = carry[0], carry[1]
        gates = _all_gates(z_t + tf.matmul(h, recurrent_kernel), scale)
        i, f, g, o = tf.split(gates, 4, axis=-1)
        c_new = f * c + i * g
        tanh_c = tf.tanh(c_new)
        # What the backward step needs, computed here where the gates are at hand (fused into
        # this step's one element-wise pass): each gate's partner in the product times the
        # derivative of its activation, `[dc-factors for i, f, g | dh-factor for o]`.
        partners = tf.concat([g, c, i, tanh_c], axis=-1) * (1.0 - gates) * (gates + (scale - 1.0))
        return o * tanh_c, c_new, f, o * (1.0 - tf.square(tanh_c)), partners

    zeros = tf.zeros_like(cell)
    all_hidden, all_cell, all_forget, all_output_slope, all_partners = tf.scan(
        forward_step, gate_inputs,
        initializer=(hidden, cell, zeros, zeros, tf.zeros_like(gate_inputs[0])))
    return all_hidden, all_cell[-1], (all_forget, all_output_slope, all_partners)


def _backward_through_time(saved: tuple, recurrent_kernel: tf.Tensor, d_hidden_out: tf.Tensor,
                           d_hidden_final: tf.Tensor | None, d_cell_final: tf.Tensor | None):
    """The backward loop: ``dz`` `[time, batch, 4*units]` and the gradients of the initial
    hidden and cell states."""
    all_forget, all_output_slope, all_partners = saved
    steps = tf.shape(all_partners)[0]
    transposed_kernel = tf.transpose(recurrent_kernel)  # once, not per step

    def backward_step(t, dh, dc, d_gate_inputs):
        dh = dh + d_hidden_out[t]
        dc = dc + dh * all_output_slope[t]
        dz = tf.concat([dc, dc, dc, dh], axis=-1) * all_partners[t]
        return (t - 1, tf.matmul(dz, transposed_kernel), dc * all_forget[t],
                d_gate_inputs.write(t, dz))

    dh = tf.zeros_like(all_forget[0]) if d_hidden_final is None else d_hidden_final
    dc = tf.zeros_like(all_forget[0]) if d_cell_final is None else d_cell_final
    _, dh, dc, dz_all = tf.while_loop(
        lambda t, *_: t >= 0, backward_step,
        (steps - 1, dh, dc, tf.TensorArray(all_partners.dtype, size=steps)))
    return dz_all.stack(), dh, dc


def _rows(x: tf.Tensor) -> tf.Tensor:
    """`[time, batch, n]` → `[time*batch, n]`."""
    return tf.reshape(x, [-1, tf.shape(x)[-1]])


def _previous_hidden(hidden: tf.Tensor, all_hidden: tf.Tensor) -> tf.Tensor:
    """``h_{t-1}`` for every step, `[time*batch, units]`."""
    return _rows(tf.concat([hidden[None], all_hidden[:-1]], axis=0))


@tf.custom_gradient
def lstm_recurrence(gate_inputs: tf.Tensor, hidden: tf.Tensor, cell: tf.Tensor,
                    recurrent_kernel: tf.Tensor):
    """Runs the recurrence over time-major ``x W + b``.

    Args:
      gate_inputs: `[time, batch, 4*units]`.
      hidden, cell: the initial state, `[batch, units]` each.
      recurrent_kernel: `[units, 4*units]`.
    Returns:
      hidden states `[time, batch, units]`, the final hidden and cell states `[batch, units]`.
    """
    all_hidden, final_cell, saved = _forward(gate_inputs, hidden, cell, recurrent_kernel)

    def backward(d_hidden_out, d_hidden_final, d_cell_final):
        dz_all, dh, dc = _backward_through_time(saved, recurrent_kernel, d_hidden_out,
                                                d_hidden_final, d_cell_final)
        d_recurrent_kernel = tf.matmul(_previous_hidden(hidden, all_hidden), _rows(dz_all),
                                       transpose_a=True)
        return dz_all, dh, dc, d_recurrent_kernel

    return (all_hidden, all_hidden[-1], final_cell), backward


@tf.custom_gradient
def lstm_layer(inputs: tf.Tensor, hidden: tf.Tensor, cell: tf.Tensor, kernel: tf.Tensor,
               bias: tf.Tensor, recurrent_kernel: tf.Tensor):
    """The input projection ``x W + b`` of every step as one matmul, then the recurrence.

    Backward, both weight gradients come from one matmul, as cuDNN does:
    ``[dW; dU] = [X, H_prev]^T dZ`` (`[input + units, 4*units]`); ``dX = dZ W^T``.

    Args:
      inputs: `[time, batch, input]`.
      hidden, cell: the initial state, `[batch, units]` each.
      kernel, bias, recurrent_kernel: the cell's ``W`` `[input, 4*units]`, ``b``, ``U``.
    Returns:
      as `lstm_recurrence`: hidden states `[time, batch, units]`, the final hidden and cell states.
    """
    gate_inputs = tf.reshape(tf.matmul(_rows(inputs), kernel) + bias,
                             tf.concat([tf.shape(inputs)[:2], [-1]], axis=0))
    all_hidden, final_cell, saved = _forward(gate_inputs, hidden, cell, recurrent_kernel)

    def backward(d_hidden_out, d_hidden_final, d_cell_final):
        dz_all, dh, dc = _backward_through_time(saved, recurrent_kernel, d_hidden_out,
                                                d_hidden_final, d_cell_final)
        dz = _rows(dz_all)
        layer_inputs = tf.concat([_rows(inputs), _previous_hidden(hidden, all_hidden)], axis=-1)
        d_kernel, d_recurrent_kernel = tf.split(
            tf.matmul(layer_inputs, dz, transpose_a=True),
            [tf.shape(kernel)[0], tf.shape(recurrent_kernel)[0]])
        d_inputs = tf.reshape(tf.matmul(dz, kernel, transpose_b=True), tf.shape(inputs))
        return d_inputs, dh, dc, d_kernel, tf.reduce_sum(dz, axis=0), d_recurrent_kernel

    return (all_hidden, all_hidden[-1], final_cell), backward


def fused_recurrence(gate_inputs: tf.Tensor, state: LSTMState, recurrent_kernel: tf.Tensor
                     ) -> tuple[tf.Tensor, LSTMState]:
    """`lstm_recurrence` on an `LSTMState`: time-major ``x W + b`` `[time, batch, 4*units]` →
    hidden states `[time, batch, units]` and the state after the last step."""
    hidden, final_hidden, final_cell = lstm_recurrence(gate_inputs, state.hidden, state.cell,
                                                       recurrent_kernel)
    return hidden, LSTMState(final_hidden, final_cell)


def fused_unroll(inputs: tf.Tensor, state: LSTMState, kernel: tf.Tensor, bias: tf.Tensor,
                 recurrent_kernel: tf.Tensor) -> tuple[tf.Tensor, LSTMState]:
    """`LSTMCell.unroll` on time-major inputs, with the hand-written backward pass.

    Args:
      inputs: `[time, batch, input]`.
      state: the state before the first step.
      kernel, bias, recurrent_kernel: the cell's ``W``, ``b``, ``U``.
    Returns:
      hidden states `[time, batch, units]` and the state after the last step.
    """
    hidden, final_hidden, final_cell = lstm_layer(inputs, state.hidden, state.cell, kernel,
                                                  bias, recurrent_kernel)
    return hidden, LSTMState(final_hidden, final_cell)
