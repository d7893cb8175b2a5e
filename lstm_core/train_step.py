"""The compiled training step: forward and backward per replica, the all-reduce, one Adam update.

Each replica runs its block of the global batch forward and backward in one XLA-compiled
function (on the CPU alone, one per core on a slice each, unless a large step is measured
faster whole); the gradients are summed over every replica of every worker outside the compiled
function (XLA cannot compile a collective across workers), and `Adam` updates the weights. The
stop votes of `lstm_core.stop_signals` travel with the gradients, so every worker reads the
same sum.
"""

from __future__ import annotations

import math
import time
from typing import Callable, NamedTuple

import tensorflow as tf

from lstm_core.distribute import batch_slices, cpu_cores
from lstm_core.model import LanguageModel
from lstm_core.optimizer import Adam
from lstm_core.replicas import Replicas
from lstm_core.stop_signals import NO_STOP, STOP_SIGNALS

# A step of at least this many FLOPs (about 0.2 s on a 2-core CPU) times its two slicings before
# training, one slice per core against the whole batch, and keeps the faster: which wins depends
# on the CPU and the model (on one 2-core CPU the whole batch was 26% faster for the 2x512
# benchmark model, and one slice per core 14% faster for the 2x128 one). Below it the two extra
# compilations would cost more than they save; one slice per core is kept.
MEASURED_SLICING_FLOPS = 2e10
LOG2 = math.log(2.0)  # a loss in nats over LOG2: bits per token


class StepResult(NamedTuple):
    loss: tf.Tensor  # the mean cross-entropy over the global batch
    accuracy: tf.Tensor
    gradient_norm: tf.Tensor  # before clipping
    state: object  # the LSTM state to carry, per replica
    stop_votes: tf.Tensor  # `[2]`: workers asked to stop by SIGINT, by SIGTERM


def summed_loss_and_correct(logits: tf.Tensor, targets: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """The cross-entropy summed over `[batch, time]`, and how many argmax predictions hit."""
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(targets, logits)
    predictions = tf.argmax(logits, axis=-1, output_type=tf.int32)
    return tf.reduce_sum(losses), tf.reduce_sum(tf.cast(predictions == targets, tf.float32))


class TrainStep:
    def __init__(self, model: LanguageModel, optimizer: Adam, replicas: Replicas,
                 rng: tf.random.Generator, batch_size: int, sequence_length: int,
                 shards_per_replica: int = 0, fold_embedding: bool | None = None):
        """Chooses the slicing (timing it when the step is large) and traces nothing yet.

        Args:
          rng: draws each step's dropout seed (a checkpointed variable: a resumed run draws
            the same seeds).
          batch_size, sequence_length: the global batch `[batch_size, sequence_length]`.
          shards_per_replica: slices of its rows one replica computes side by side (0: chosen
            here, see `TrainingConfig`); `fold_embedding`: None chooses it per slice.
        """
        self.model, self.optimizer, self.replicas, self.rng = model, optimizer, replicas, rng
        self.batch_shape = [batch_size, sequence_length]
        self.tokens_per_step = batch_size * sequence_length
        self._configured = (shards_per_replica, fold_embedding)
        self._gradients = self._choose_slicing()
        self._step = self._build_step()

    def __call__(self, inputs: tf.Tensor, targets: tf.Tensor, state, stop_votes=NO_STOP
                 ) -> StepResult:
        """One optimizer step on the global batch, of which this worker gives its rows.

        Args:
          inputs, targets: token ids `[rows, time]` int32 (this worker's `Replicas.rows`).
          state: the LSTM state per replica (`TrainingState.carried()`, `zero_state()`, or the
            previous step's).
          stop_votes: `[2]`: whether this worker was asked to stop by SIGINT, by SIGTERM.
        """
        per_replica = self.replicas.per_replica
        return self._step(per_replica(inputs), per_replica(targets), state,
                          tf.constant(stop_votes, tf.float32))

    def graph(self, state_spec) -> tf.Graph:
        """The graph of the step for a state of `state_spec` (`tf.TensorSpec`s), for
        TensorBoard (already traced by the first step: nothing runs)."""
        ids = tf.TensorSpec(self.batch_shape, tf.int32)
        votes = tf.TensorSpec([len(STOP_SIGNALS)], tf.float32)
        return self._step.get_concrete_function(ids, ids, state_spec, votes).graph

    def _build_gradients(self, shards: int) -> Callable:
        """One replica's gradients of its rows, `(inputs, targets, state, seed) -> (grads,
        loss, correct, state)`, computed in `shards` slices of the rows side by side."""
        model, variables = self.model, self.model.trainable_variables
        global_tokens = float(self.tokens_per_step)
        fold_embedding = self._folds_embedding(shards)

        @tf.function(jit_compile=True)
        def gradients(inputs, targets, state, seed):
            with tf.GradientTape() as tape:
                logits, state = model(inputs, state, training=True, seed=seed,
                                      fold_embedding=fold_embedding)
                summed_loss, correct = summed_loss_and_correct(logits, targets)
                loss = summed_loss / global_tokens  # summed over replicas: the mean
            grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]
            return grads, loss, correct, state

        if shards == 1:
            return gradients

        def in_slices(inputs, targets, state, seed):
            # One XLA computation per core on a slice of the batch: the executor runs them side
            # by side, where one computation would run its small per-step matmuls on one core.
            parts = [gradients(*piece, tf.random.experimental.stateless_fold_in(seed, shard))
                     for shard, piece in enumerate(batch_slices((inputs, targets, state), shards))]
            grads, loss, correct, states = zip(*parts)
            return ([tf.add_n(list(g)) for g in zip(*grads)], tf.add_n(list(loss)),
                    tf.add_n(list(correct)),
                    tf.nest.map_structure(lambda *pieces: tf.concat(pieces, 0), *states))

        return in_slices

    def _choose_slicing(self) -> Callable:
        """Sets `shards_per_replica` and `fold_embedding` and returns `_build_gradients` of
        them: the configured slices, else one slice per core, or for a step of
        `MEASURED_SLICING_FLOPS` or more whichever of that and the whole batch computes a step's
        gradients faster (the best of two timed calls each after the compiling one; the weights
        do not change)."""
        configured = self._configured[0]
        shards = configured or self._cores_per_replica()
        candidates = {shards: self._build_gradients(shards)}
        step_flops = 6.0 * self.tokens_per_step * sum(  # forward 2, backward 4 per weight
            v.shape.num_elements() for v in self.model.trainable_variables)
        if (not configured and shards > 1 and self.replicas.replicas == 1
                and step_flops >= MEASURED_SLICING_FLOPS):
            candidates[1] = self._build_gradients(1)
            ids = tf.zeros(self.batch_shape, tf.int32)
            state = self.model.initial_state(self.batch_shape[0])
            seconds = {n: _best_time(tf.function(gradients), ids, ids, state,
                                     tf.constant([0, 0], tf.int64))
                       for n, gradients in candidates.items()}
            shards = min(seconds, key=seconds.get)
        self.shards_per_replica, self.fold_embedding = shards, self._folds_embedding(shards)
        return candidates[shards]

    def _build_step(self):
        strategy, optimizer, gradients = self.replicas.strategy, self.optimizer, self._gradients
        variables, rng = self.model.trainable_variables, self.rng
        global_tokens = float(self.tokens_per_step)
        local_replicas = float(len(self.replicas.local_replicas))

        def replica_step(inputs, targets, state, seed, stop_votes):
            replica = tf.distribute.get_replica_context().replica_id_in_sync_group
            seed = tf.random.experimental.stateless_fold_in(seed, replica)
            stop_votes = stop_votes / local_replicas  # summed over the worker's replicas: one
            return (*gradients(inputs, targets, state, seed), stop_votes)

        @tf.function
        def train_step(inputs, targets, state, stop_votes):
            seed = rng.make_seeds(1)[:, 0]
            grads, loss, correct, state, stop_votes = strategy.run(
                replica_step, (inputs, targets, state, seed, stop_votes))
            # The all-reduce over every replica of every worker, outside the compiled function.
            total = lambda value: strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
            norm = optimizer.apply([total(g) for g in grads], variables)
            return StepResult(total(loss), total(correct) / global_tokens, norm, state,
                              total(stop_votes))

        return train_step

    def _cores_per_replica(self) -> int:
        """One slice per CPU core when this worker trains on its CPU alone, else 1."""
        if len(self.replicas.local_replicas) > 1 or tf.config.list_logical_devices("GPU"):
            return 1
        rows = self.replicas.rows_per_replica
        return max(n for n in range(1, cpu_cores() + 1) if rows % n == 0)

    def _folds_embedding(self, shards: int) -> bool:
        """The configured `fold_embedding`, else whether folding saves work for slices of
        `shards`."""
        if self._configured[1] is not None:
            return self._configured[1]
        slice_tokens = self.tokens_per_step // self.replicas.replicas // shards
        return self.model.config.vocabulary_size < slice_tokens


def _best_time(function: Callable, *arguments, calls: int = 2) -> float:
    """The fastest of `calls` timed calls of `function(*arguments)` (seconds, results read
    back), after one untimed call that compiles it."""
    tf.nest.map_structure(lambda t: t.numpy(), function(*arguments))
    fastest = math.inf
    for _ in range(calls):
        start = time.perf_counter()
        tf.nest.map_structure(lambda t: t.numpy(), function(*arguments))
        fastest = min(fastest, time.perf_counter() - start)
    return fastest
