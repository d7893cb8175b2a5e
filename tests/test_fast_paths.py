"""The fast paths equal the readable reference: gate activations, the fused recurrence at training
shapes under XLA, and the train step computed in per-core slices of the batch."""

import numpy as np
import pytest
import tensorflow as tf

from lstm_core import fused
from lstm_core import train_step as step_module
from lstm_core.batch import Batch
from lstm_core.cell import LSTMCell, LSTMState, lstm_gates
from lstm_core.model import ModelConfig
from lstm_core.stack import StackedLSTM
from lstm_core.trainer import Trainer, TrainingConfig


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_one_sigmoid_gates_equal_sigmoid_and_tanh(dtype):
    units = 5
    z = tf.constant(np.random.default_rng(0).normal(size=[3, 4 * units]) * 4, dtype)
    expected = tf.concat(lstm_gates(z), axis=-1)  # the reference cell's gates
    actual = fused._all_gates(z, fused._gate_scale(units, dtype))
    np.testing.assert_allclose(actual, expected, atol=1e-6 if dtype == tf.float32 else 1e-12)


def test_fused_recurrence_equals_the_reference_cell_under_xla():
    batch, time, inputs_size, units = 6, 12, 10, 16
    rng = np.random.default_rng(1)
    cell = LSTMCell(inputs_size, units)
    cell.bias.assign(rng.normal(size=[4 * units]).astype(np.float32))
    inputs = tf.constant(rng.normal(size=[batch, time, inputs_size]).astype(np.float32))
    state = LSTMState(*(tf.constant(rng.normal(size=[batch, units]).astype(np.float32))
                        for _ in range(2)))
    weights = tf.constant(rng.normal(size=[batch, time, units]).astype(np.float32))
    variables = [cell.kernel, cell.recurrent_kernel, cell.bias]

    @tf.function(jit_compile=True)
    def run(use_fused):
        with tf.GradientTape() as tape:
            tape.watch([inputs, *state])
            if use_fused:
                outputs, final = fused.fused_unroll(tf.transpose(inputs, [1, 0, 2]), state,
                                                    cell.kernel, cell.bias, cell.recurrent_kernel)
                outputs = tf.transpose(outputs, [1, 0, 2])
            else:
                outputs, final = cell.unroll(inputs, state)
            loss = (tf.reduce_sum(outputs * weights) + tf.reduce_sum(final.hidden * 0.3)
                    + tf.reduce_sum(tf.sin(final.cell)))
        return (outputs, final.hidden, final.cell,
                *tape.gradient(loss, [inputs, *state, *variables]))

    for fast, reference in zip(run(True), run(False)):
        np.testing.assert_allclose(fast, reference, rtol=1e-4, atol=1e-5)


def test_embedding_folded_into_the_first_projection_equals_the_gathered_inputs():
    vocabulary, embedding_size, time, batch, units = 7, 5, 6, 4, 8
    rng = np.random.default_rng(3)
    stack = StackedLSTM(embedding_size, units, layers=2)
    embedding = tf.Variable(rng.normal(size=[vocabulary, embedding_size]).astype(np.float32))
    tokens = tf.constant(rng.integers(0, vocabulary, [time, batch]).astype(np.int32))
    state = stack.initial_state(batch)
    weights = tf.constant(rng.normal(size=[time, batch, units]).astype(np.float32))
    variables = [embedding, *stack.trainable_variables]
    seed = tf.constant([4, 5], tf.int64)

    @tf.function(jit_compile=True)
    def run(folded):
        with tf.GradientTape() as tape:
            if folded:
                outputs, final = stack.from_embedding(embedding, tokens, state, 0.2, seed)
            else:
                outputs, final = stack(tf.gather(embedding, tokens), state, 0.2, seed)
            loss = tf.reduce_sum(outputs * weights) + tf.reduce_sum(tf.sin(final[0].cell))
        return (outputs, *tf.nest.flatten(final),
                *[tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)])

    for fast, reference in zip(run(True), run(False)):
        np.testing.assert_allclose(fast, reference, rtol=1e-4, atol=1e-5)


def make_trainer(tmp_path, name, shards=0, batch_size=4, sequence_length=6, dropout=0.0,
                 like=None, fold=None):
    vocabulary = 7
    ids = np.random.default_rng(2).integers(0, vocabulary, 2000).astype(np.uint8)
    trainer = Trainer(ModelConfig(vocabulary, units=8, layers=2, embedding_size=5,
                                  dropout=dropout),
                      TrainingConfig(batch_size=batch_size, sequence_length=sequence_length,
                                     shards_per_replica=shards, fold_embedding=fold),
                      Batch(ids, batch_size, sequence_length), None,
                      str(tmp_path / name / "checkpoints"), str(tmp_path / name / "logs"))
    if like is not None:  # the same initial weights
        for variable, value in zip(trainer.model.trainable_variables,
                                   like.model.trainable_variables):
            variable.assign(value)
    return trainer


def run_steps(trainer, steps):
    state = trainer.carried()
    results = []
    for inputs, targets in trainer.train_batches.dataset().take(steps):
        result = trainer.step(inputs, targets, state)
        state = result.state
        results.append((float(result.loss), float(result.accuracy), float(result.gradient_norm)))
    return results, state, [v.numpy() for v in trainer.model.trainable_variables]


def test_train_step_in_slices_equals_one_computation(tmp_path):
    one = make_trainer(tmp_path, "one", shards=1)
    sliced = [make_trainer(tmp_path, f"sliced{n}", shards=n, like=one) for n in (2, 4)]
    assert [t.shards_per_replica for t in (one, *sliced)] == [1, 2, 4]
    assert_same_steps(one, *sliced)


def assert_same_steps(reference, *trainers, steps=3):
    """Losses, carried states and weights after `steps` steps of each of `trainers` (of the
    same initial weights) equal `reference`'s."""
    expected = run_steps(reference, steps)
    for trainer in trainers:
        results = run_steps(trainer, steps)
        np.testing.assert_allclose(results[0], expected[0], rtol=1e-5, atol=1e-6)
        for fast, slow in zip(tf.nest.flatten(results[1]) + results[2],
                              tf.nest.flatten(expected[1]) + expected[2]):
            np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_train_step_with_the_embedding_folded_equals_the_model_step(tmp_path, dropout):
    reference = make_trainer(tmp_path, "model", shards=2, dropout=dropout, fold=False)
    folded = make_trainer(tmp_path, "folded", shards=2, dropout=dropout, fold=True,
                          like=reference)
    assert (reference.fold_embedding, folded.fold_embedding) == (False, True)
    assert_same_steps(reference, folded)


def test_this_machine_trains_one_slice_per_core_with_the_one_slice_step(tmp_path):
    one = make_trainer(tmp_path, "one", shards=1, batch_size=6)
    chosen = make_trainer(tmp_path, "chosen", batch_size=6, like=one)
    # A batch of 6 rows splits into 1, 2, 3 or 6 slices: as many as there are cores, on a CPU.
    on_gpu = bool(tf.config.list_logical_devices("GPU"))
    cores = step_module.cpu_cores()
    assert chosen.shards_per_replica == (1 if on_gpu else max(n for n in (1, 2, 3, 6)
                                                              if n <= cores))
    assert_same_steps(one, chosen)


def test_one_thread_computes_one_slice(monkeypatch):
    # A CPU-second budget sets TensorFlow's threads to one before its runtime starts.
    monkeypatch.setattr(tf.config.threading, "get_inter_op_parallelism_threads", lambda: 1)
    assert step_module.cpu_cores() == 1


def test_shards_divide_the_batch(tmp_path, monkeypatch):
    # On 4 cores (CPU only): the largest count up to 4 that divides the batch.
    monkeypatch.setattr(step_module, "cpu_cores", lambda: 4)
    monkeypatch.setattr(step_module.tf.config, "list_logical_devices", lambda kind=None: [])
    for batch, shards in ((6, 3), (5, 1), (4, 4)):
        trainer = make_trainer(tmp_path, f"batch{batch}", batch_size=batch)
        assert trainer.shards_per_replica == shards, batch


def test_the_embedding_is_folded_when_the_vocabulary_is_smaller_than_a_slice(tmp_path):
    # 7 tokens of vocabulary; a slice of 4 x 6 / 2 shards = 12 tokens, of 2 x 6 / 2 = 6.
    assert make_trainer(tmp_path, "large", shards=2, batch_size=4).fold_embedding
    assert not make_trainer(tmp_path, "small", shards=2, batch_size=2).fold_embedding


@pytest.mark.parametrize("whole_is_faster", [True, False])
def test_a_large_step_times_its_slicings_and_keeps_the_faster(tmp_path, monkeypatch,
                                                               whole_is_faster):
    """Above `MEASURED_SLICING_FLOPS` the trainer times one slice per core against the whole
    batch on the real compiled gradients, and trains with the faster (here decided by the
    times it is told, in the order it measured: one slice per core, then the whole batch)."""
    monkeypatch.setattr(step_module, "cpu_cores", lambda: 2)
    monkeypatch.setattr(step_module.tf.config, "list_logical_devices", lambda kind=None: [])
    monkeypatch.setattr(step_module, "MEASURED_SLICING_FLOPS", 0.0)
    measured = []

    def best_time(function, *arguments):
        grads, loss, correct, state = function(*arguments)  # it runs, on a batch of zeros
        # One gradient per weight: the embedding, 3 per layer, the output kernel and bias.
        assert np.isfinite(float(loss)) and len(grads) == 9
        measured.append(float(loss))
        return [2.0, 1.0][len(measured) - 1] if whole_is_faster else [1.0, 2.0][len(measured) - 1]

    monkeypatch.setattr(step_module, "_best_time", best_time)
    chosen = make_trainer(tmp_path, "chosen", batch_size=4)
    assert len(measured) == 2 and measured[0] == pytest.approx(measured[1], rel=1e-5)
    assert chosen.shards_per_replica == (1 if whole_is_faster else 2)
    assert chosen.fold_embedding == (4 * 6 // chosen.shards_per_replica > 7)
    assert_same_steps(make_trainer(tmp_path, "one", shards=1, like=chosen), chosen)
    # Below the threshold nothing is timed: one slice per core.
    monkeypatch.setattr(step_module, "MEASURED_SLICING_FLOPS", 1e30)
    assert make_trainer(tmp_path, "small", batch_size=4).shards_per_replica == 2
    assert len(measured) == 2
