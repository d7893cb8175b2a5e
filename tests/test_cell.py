"""The LSTM cell against Keras, the hand-written backward pass against autodiff and finite
differences."""

import numpy as np
import pytest
import tensorflow as tf

from lstm_core.cell import LSTMCell, LSTMState, lstm_step
from lstm_core.fused import fused_unroll, lstm_layer, lstm_recurrence
from lstm_core.stack import StackedLSTM

BATCH, TIME, INPUT, UNITS = 3, 7, 5, 4


def random_inputs(seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return tf.constant(rng.normal(size=[BATCH, TIME, INPUT]).astype(dtype))


def random_state(seed=1):
    rng = np.random.default_rng(seed)
    return LSTMState(*(tf.constant(rng.normal(size=[BATCH, UNITS]).astype(np.float32))
                       for _ in range(2)))


def test_the_forget_gate_bias_starts_where_asked_and_every_other_at_zero():
    # A forget-gate bias of 1 learnt tinyshakespeare slower, and music faster (lstm_core/cell.py).
    np.testing.assert_array_equal(LSTMCell(INPUT, UNITS).bias.numpy(), np.zeros(4 * UNITS))
    bias = LSTMCell(INPUT, UNITS, forget_bias=1.0).bias.numpy()
    np.testing.assert_array_equal(bias, np.repeat([0.0, 1.0, 0.0, 0.0], UNITS))


def test_unroll_equals_keras_lstm_with_the_same_weights():
    cell = LSTMCell(INPUT, UNITS)
    cell.bias.assign(tf.random.normal([4 * UNITS]))  # not just the initial pattern
    keras_lstm = tf.keras.layers.LSTM(UNITS, return_sequences=True, return_state=True)
    keras_lstm.build((BATCH, TIME, INPUT))
    keras_lstm.set_weights([cell.kernel.numpy(), cell.recurrent_kernel.numpy(), cell.bias.numpy()])
    inputs, state = random_inputs(), random_state()

    expected, expected_h, expected_c = keras_lstm(inputs, initial_state=list(state))
    outputs, final = cell.unroll(inputs, state)
    np.testing.assert_allclose(outputs, expected, atol=1e-5)
    np.testing.assert_allclose(final.hidden, expected_h, atol=1e-5)
    np.testing.assert_allclose(final.cell, expected_c, atol=1e-5)

    fused_outputs, fused_final = fused_unroll(tf.transpose(inputs, [1, 0, 2]), state, cell.kernel,
                                              cell.bias, cell.recurrent_kernel)
    np.testing.assert_allclose(tf.transpose(fused_outputs, [1, 0, 2]), expected, atol=1e-5)
    np.testing.assert_allclose(fused_final.cell, expected_c, atol=1e-5)


def test_single_steps_equal_the_unroll():
    cell = LSTMCell(INPUT, UNITS)
    inputs, state = random_inputs(), random_state()
    outputs, _ = cell.unroll(inputs, state)
    for t in range(TIME):
        state = cell(inputs[:, t], state)
        np.testing.assert_allclose(state.hidden, outputs[:, t], atol=1e-6)


def loss_of(outputs, final):
    """A loss that depends on every output and on the final state, with uneven weights."""
    weights = tf.reshape(tf.range(tf.size(outputs), dtype=outputs.dtype), tf.shape(outputs)) / 100.0
    return (tf.reduce_sum(tf.sin(outputs) * weights) + tf.reduce_sum(final.hidden ** 2)
            + tf.reduce_sum(tf.cos(final.cell)))


@pytest.mark.parametrize("compiled", [False, True])
def test_fused_gradients_equal_autodiff(compiled):
    cell = LSTMCell(INPUT, UNITS)
    inputs, state = random_inputs(), random_state()
    variables = [cell.kernel, cell.recurrent_kernel, cell.bias]

    def gradients(fused):
        with tf.GradientTape() as tape:
            tape.watch([inputs, *state])
            if fused:
                outputs, final = fused_unroll(tf.transpose(inputs, [1, 0, 2]), state, cell.kernel,
                                              cell.bias, cell.recurrent_kernel)
                outputs = tf.transpose(outputs, [1, 0, 2])
            else:
                outputs, final = cell.unroll(inputs, state)
            loss = loss_of(outputs, final)
        return tape.gradient(loss, [inputs, *state, *variables])

    if compiled:
        gradients = tf.function(gradients, jit_compile=True)
    for fused_grad, reference_grad in zip(gradients(True), gradients(False)):
        np.testing.assert_allclose(fused_grad, reference_grad, rtol=1e-4, atol=1e-5)


# (shape, scale) of each argument: the recurrence takes ``x W + b``; the layer takes ``x``, W, b.
RECURRENCE_ARGS = [([TIME, BATCH, 4 * UNITS], 1.0), ([BATCH, UNITS], 1.0), ([BATCH, UNITS], 1.0),
                   ([UNITS, 4 * UNITS], 0.5)]
LAYER_ARGS = [([TIME, BATCH, INPUT], 1.0), ([BATCH, UNITS], 1.0), ([BATCH, UNITS], 1.0),
              ([INPUT, 4 * UNITS], 0.5), ([4 * UNITS], 1.0), ([UNITS, 4 * UNITS], 0.5)]


@pytest.mark.parametrize("function, arg_shapes", [(lstm_recurrence, RECURRENCE_ARGS),
                                                  (lstm_layer, LAYER_ARGS)])
def test_fused_gradients_equal_finite_differences(function, arg_shapes):
    """Both hand-written backward passes, every argument, in float64."""
    rng = np.random.default_rng(3)
    args = [tf.constant(rng.normal(size=shape) * scale) for shape, scale in arg_shapes]

    @tf.function  # one graph call per evaluation: about 850 of them for the finite differences
    def loss(*args):
        outputs, final_h, final_c = function(*args)
        return loss_of(outputs, LSTMState(final_h, final_c))

    theoretical, numerical = tf.test.compute_gradient(loss, args)
    for analytic, finite in zip(theoretical, numerical):
        np.testing.assert_allclose(analytic, finite, rtol=1e-5, atol=1e-6)


def test_lstm_step_is_pure():
    rng = np.random.default_rng(4)
    gate_inputs = tf.constant(rng.normal(size=[BATCH, 4 * UNITS]).astype(np.float32))
    kernel = tf.constant(rng.normal(size=[UNITS, 4 * UNITS]).astype(np.float32))
    state = random_state()
    first, second = lstm_step(gate_inputs, state, kernel), lstm_step(gate_inputs, state, kernel)
    np.testing.assert_array_equal(first.hidden, second.hidden)
    assert np.all(np.abs(first.hidden) < 1.0)
    # The equations of cell.py written out in numpy: z = (x W + b) + h U, split in the order
    # i, f, g, o; c' = σ(f) c + σ(i) tanh(g); h' = σ(o) tanh(c').
    sigmoid = lambda v: 1.0 / (1.0 + np.exp(-v))
    h, c = (np.asarray(s, np.float64) for s in state)
    z = np.asarray(gate_inputs, np.float64) + h @ np.asarray(kernel, np.float64)
    z_i, z_f, z_g, z_o = (z[:, k * UNITS:(k + 1) * UNITS] for k in range(4))
    cell = sigmoid(z_f) * c + sigmoid(z_i) * np.tanh(z_g)
    np.testing.assert_allclose(first.cell, cell, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(first.hidden, sigmoid(z_o) * np.tanh(cell), rtol=1e-5, atol=1e-6)


def test_stack_fused_and_reference_agree_and_step_matches():
    stack = StackedLSTM(INPUT, UNITS, layers=3)
    inputs = tf.transpose(random_inputs(), [1, 0, 2])
    state = stack.initial_state(BATCH)
    fused, fused_final = stack(inputs, state, fused=True)
    reference, reference_final = stack(inputs, state, fused=False)
    np.testing.assert_allclose(fused, reference, atol=1e-5)
    for t in range(TIME):
        output, state = stack.step(inputs[t], state)
        np.testing.assert_allclose(output, fused[t], atol=1e-5)
    np.testing.assert_allclose(state[-1].cell, fused_final[-1].cell, atol=1e-5)
    # Every layer's final hidden and cell state: stepped, fused and reference agree.
    assert len(state) == len(fused_final) == len(reference_final) == 3
    for stepped, fast, slow in zip(state, fused_final, reference_final):
        for field in ("hidden", "cell"):
            np.testing.assert_allclose(getattr(fast, field), getattr(slow, field), atol=1e-5)
            np.testing.assert_allclose(getattr(stepped, field), getattr(fast, field), atol=1e-5)
