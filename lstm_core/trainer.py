"""The trainer: a custom `tf.GradientTape` loop under a `tf.distribute.Strategy`.

One step: each replica runs its slice of the global batch forward and backward (one
XLA-compiled function; on the CPU alone, one per core on a slice each, unless a large step is
measured faster whole), the gradients are summed over every replica of every worker (outside
the compiled function: XLA cannot compile a collective across workers), and `Adam` updates the
weights. The LSTM state left by one batch starts the next (contiguous streams, see
`lstm_core.batch`).

Everything a resumed run needs is in the checkpoint: weights, Adam's moments and step (which is
also the data position), the random generator of the dropout masks and the carried LSTM state
of the whole global batch, so an interrupted run continues exactly as if it had never stopped,
on the same or on a different number of workers. TensorFlow writes each checkpoint to temporary
files and renames them, and `CheckpointManager` updates its index last: a crash mid-save leaves
the previous checkpoint intact.

Under `MultiWorkerMirroredStrategy` every worker runs this same loop in lockstep: it reads only
its own rows of each batch, and only the chief writes checkpoints and TensorBoard logs (the
other workers save into a temporary folder they delete, as every worker must call save). The
chief alone reads the checkpoint to resume; the others take its values (`restore`).
"""

from __future__ import annotations

import dataclasses
import math
import os
import signal
import tempfile
import time
from typing import Callable, NamedTuple

import numpy as np
import tensorflow as tf

from lstm_core import checkpoints, distribute
from lstm_core.batch import Batch
from lstm_core.best_checkpoint import BestCheckpoint
from lstm_core.distribute import batch_slices, cpu_cores
from lstm_core.callbacks import TrainingCallbacks
from lstm_core.cell import LSTMState
from lstm_core.errors import UsageError
from lstm_core.model import LanguageModel, ModelConfig
from lstm_core.optimizer import Adam
from lstm_core.saved import restore_checkpoint
from lstm_core.stack import StackState
from lstm_core.training_options import DEFAULTS

LOG2 = math.log(2.0)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
METRICS = ("loss", "bits_per_token", "accuracy", "validation_loss", "validation_bits_per_token",
           "validation_accuracy", "best_validation_loss", "best_step", "tokens_per_second",
           "gradient_norm", "learning_rate")
"""The order of `Trainer.train`'s metrics, whichever came first in the run (train.py's done:
line prints them so)."""
# A step of at least this many FLOPs (about 0.2 s on a 2-core CPU) times its two slicings before
# training, one slice per core against the whole batch, and keeps the faster: which wins depends
# on the CPU and the model (on one 2-core CPU the whole batch was 26% faster for the 2x512
# benchmark model, and one slice per core 14% faster for the 2x128 one). Below it the two extra
# compilations would cost more than they save; one slice per core is kept.
MEASURED_SLICING_FLOPS = 2e10


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainingConfig:
    """The training options the trainer reads; their defaults and meanings are `TrainOptions`'."""
    batch_size: int = DEFAULTS.batch_size  # the global batch: split over every replica
    sequence_length: int = DEFAULTS.sequence_length
    epochs: int = DEFAULTS.epochs
    max_steps: int = DEFAULTS.max_steps
    learning_rate: float = DEFAULTS.learning_rate
    learning_rate_decay: float = DEFAULTS.learning_rate_decay
    gradient_clip: float = DEFAULTS.gradient_clip
    log_frequency: int = DEFAULTS.log_frequency
    checkpoint_every: int = DEFAULTS.checkpoint_every
    validation_every: int = DEFAULTS.validation_every  # 0: `validation_interval` chooses
    # Tokens one validation reads: the most whole batches within them, spread over the whole
    # split and the same every time (`Batch.sample`, seeded by `random_seed`); 0: the whole split.
    validation_tokens: int = DEFAULTS.validation_tokens
    random_seed: int = DEFAULTS.random_seed
    early_stopping: int = DEFAULTS.early_stopping
    # How many slices of its batch one replica computes side by side (0: on the CPU alone, one
    # per core, the largest count up to the cores that divides the batch, or for a step of
    # `MEASURED_SLICING_FLOPS` or more the faster of that and the whole batch, timed).
    shards_per_replica: int = 0
    # Fold the embedding into the first layer's input projection (None: when the table
    # `[vocabulary, 4*units]` is smaller than the projected slice `[tokens, 4*units]`).
    fold_embedding: bool | None = None


class Diverged(UsageError):
    """The loss is not finite: the learning rate or the clip norm is too high."""


class Interrupted(Exception):
    """Training stopped at a step boundary because Ctrl-C (SIGINT) or SIGTERM reached this
    worker or another one; a checkpoint of that step is saved."""

    def __init__(self, step: int, checkpoint: str, signal_number: int, here: bool):
        super().__init__(f"interrupted at step {step}: saved {checkpoint}")
        self.step, self.checkpoint, self.signal_number, self.here = (
            step, checkpoint, signal_number, here)


class StepResult(NamedTuple):
    loss: tf.Tensor  # the mean cross-entropy over the global batch
    accuracy: tf.Tensor
    gradient_norm: tf.Tensor  # before clipping
    state: object  # the LSTM state to carry, per replica
    stop_votes: tf.Tensor  # `[2]`: workers asked to stop by SIGINT, by SIGTERM


# A hook runs every `every` steps, with the train summary writer as the default writer.
Hook = tuple[int, Callable[[int], None]]
NO_STOP = np.zeros(len(STOP_SIGNALS), np.float32)


def pack_state(state: StackState) -> tf.Tensor:
    """Per-layer states → one tensor `[layers, 2, batch, units]` (hidden, cell)."""
    return tf.stack([tf.stack(layer) for layer in state])


def unpack_state(packed: tf.Tensor) -> StackState:
    return tuple(LSTMState(layer[0], layer[1]) for layer in tf.unstack(packed))


def summed_loss_and_correct(logits: tf.Tensor, targets: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """The cross-entropy summed over `[batch, time]`, and how many argmax predictions hit."""
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(targets, logits)
    predictions = tf.argmax(logits, axis=-1, output_type=tf.int32)
    return tf.reduce_sum(losses), tf.reduce_sum(tf.cast(predictions == targets, tf.float32))


class Trainer:
    def __init__(self, model_config: ModelConfig, config: TrainingConfig, train: Batch,
                 validation: Batch | None, checkpoint_dir: str, log_dir: str,
                 strategy: tf.distribute.Strategy | None = None,
                 model: LanguageModel | None = None, optimizer: Adam | None = None):
        """
        Args:
          train, validation: the batches of each split (validation may be None: too short).
            A validation reads `validation.sample(config.validation_tokens)`, on every worker,
            so that each takes the same decisions.
          checkpoint_dir: where checkpoints are kept (the three newest).
          log_dir: TensorBoard logs go to `log_dir/train` and `log_dir/validation`.
          strategy: default `distribute.local_strategy()`.
          model, optimizer: built here unless given (then under `strategy.scope()`; the
            optimizer over the model's trainable variables).
        """
        if config.validation_tokens < 0:
            raise UsageError(f"--validation_tokens is {config.validation_tokens}; give a count "
                             "of tokens, or 0 to validate on the whole split")
        self.config, self.train_batches = config, train
        self.validation_batches = (validation.sample(config.validation_tokens, config.random_seed)
                                   if validation and config.validation_tokens else validation)
        self.strategy = strategy or distribute.local_strategy()
        self.replicas = self.strategy.num_replicas_in_sync
        self.local_replicas = distribute.local_replica_ids(self.strategy)
        self.workers = self.replicas // len(self.local_replicas)
        self.is_chief = self.strategy.extended.should_checkpoint
        if config.batch_size % self.replicas:
            raise UsageError(f"--batch_size {config.batch_size} does not split evenly over "
                             f"{self.replicas} replicas; use a multiple of {self.replicas}")
        rows_per_replica = config.batch_size // self.replicas
        self.rows = slice(self.local_replicas[0] * rows_per_replica,
                          (self.local_replicas[-1] + 1) * rows_per_replica)  # this worker's
        with self.strategy.scope():
            self.model = model or LanguageModel(model_config, seed=config.random_seed)
            self.optimizer = optimizer or Adam(
                self.model.trainable_variables, config.learning_rate, config.learning_rate_decay,
                train.num_batches, config.gradient_clip)
        self.rng = tf.random.Generator.from_seed(config.random_seed)
        self.carried_state = tf.Variable(pack_state(self.model.initial_state(config.batch_size)),
                                         name="carried_state")
        self.checkpoint = tf.train.Checkpoint(
            model=self.model, optimizer=self.optimizer, rng=self.rng,
            carried_state=self.carried_state)
        self.manager = tf.train.CheckpointManager(self.checkpoint, checkpoint_dir, max_to_keep=3)
        if config.early_stopping and validation is None:
            raise UsageError("--early_stopping needs a validation split to watch; raise "
                             "--validation_fraction, or leave --early_stopping out")
        # The other workers keep their best checkpoint in a folder deleted with the trainer;
        # whether to stop early is the chief's decision (`_chief_says`).
        self._scratch = None if self.is_chief else tempfile.TemporaryDirectory(
            prefix="lstm-core-worker-")
        self.best = BestCheckpoint(self.checkpoint, checkpoint_dir if self.is_chief
                                   else self._scratch.name, config.early_stopping)
        self.log_dir = log_dir
        self.hooks: list[Hook] = []
        self._writers: dict[str, tf.summary.SummaryWriter] = {}
        self._gradients = self._choose_slicing()
        self._train_step = self._build_train_step()
        self._evaluate = tf.function(self._evaluate_batch, jit_compile=True)

    # ---- the compiled step ----------------------------------------------------------------
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
        shards = self.config.shards_per_replica or self._cores_per_replica()
        candidates = {shards: self._build_gradients(shards)}
        step_flops = 6.0 * self.tokens_per_step * sum(  # forward 2, backward 4 per weight
            v.shape.num_elements() for v in self.model.trainable_variables)
        if (not self.config.shards_per_replica and shards > 1 and self.replicas == 1
                and step_flops >= MEASURED_SLICING_FLOPS):
            candidates[1] = self._build_gradients(1)
            rows = [self.config.batch_size, self.config.sequence_length]
            ids, state = tf.zeros(rows, tf.int32), self.model.initial_state(rows[0])
            seconds = {n: _best_time(tf.function(gradients), ids, ids, state,
                                     tf.constant([0, 0], tf.int64))
                       for n, gradients in candidates.items()}
            shards = min(seconds, key=seconds.get)
        self.shards_per_replica, self.fold_embedding = shards, self._folds_embedding(shards)
        return candidates[shards]

    def _build_train_step(self):
        strategy, optimizer, gradients = self.strategy, self.optimizer, self._gradients
        variables = self.model.trainable_variables
        global_tokens = float(self.tokens_per_step)
        local_replicas = float(len(self.local_replicas))

        def replica_step(inputs, targets, state, seed, stop_votes):
            replica = tf.distribute.get_replica_context().replica_id_in_sync_group
            seed = tf.random.experimental.stateless_fold_in(seed, replica)
            stop_votes = stop_votes / local_replicas  # summed over the worker's replicas: one
            return (*gradients(inputs, targets, state, seed), stop_votes)

        @tf.function
        def train_step(inputs, targets, state, stop_votes):
            seed = self.rng.make_seeds(1)[:, 0]
            grads, loss, correct, state, stop_votes = strategy.run(
                replica_step, (inputs, targets, state, seed, stop_votes))
            # The all-reduce over every replica of every worker, outside the compiled function.
            total = lambda value: strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
            norm = optimizer.apply([total(g) for g in grads], variables)
            return StepResult(total(loss), total(correct) / global_tokens, norm, state,
                              total(stop_votes))

        return train_step

    def step(self, inputs: tf.Tensor, targets: tf.Tensor, state, stop_votes=NO_STOP
             ) -> StepResult:
        """One optimizer step on the global batch, of which this worker gives its `rows`.

        Args:
          inputs, targets: token ids `[rows, time]` int32.
          state: the LSTM state per replica (`carried()`, `zero_state()`, or the
            previous step's).
          stop_votes: `[2]`: whether this worker was asked to stop by SIGINT, by SIGTERM.
        """
        return self._train_step(self._per_replica(inputs), self._per_replica(targets), state,
                                tf.constant(stop_votes, tf.float32))

    def step_graph(self) -> tf.Graph:
        """The graph of the training step, for TensorBoard (already traced by the first step:
        nothing runs)."""
        config = self.config
        ids = tf.TensorSpec([config.batch_size, config.sequence_length], tf.int32)
        state = tf.nest.map_structure(lambda t: tf.TensorSpec(t.shape, t.dtype),
                                      unpack_state(self.carried_state))
        votes = tf.TensorSpec([len(STOP_SIGNALS)], tf.float32)
        return self._train_step.get_concrete_function(ids, ids, state, votes).graph

    def _cores_per_replica(self) -> int:
        """One slice per CPU core when this worker trains on its CPU alone, else 1."""
        if len(self.local_replicas) > 1 or tf.config.list_logical_devices("GPU"):
            return 1
        rows = self.config.batch_size // self.replicas
        return max(n for n in range(1, cpu_cores() + 1) if rows % n == 0)

    def _folds_embedding(self, shards: int) -> bool:
        """The configured `fold_embedding`, else whether folding saves work for slices of
        `shards`."""
        if self.config.fold_embedding is not None:
            return self.config.fold_embedding
        slice_tokens = self.tokens_per_step // self.replicas // shards
        return self.model.config.vocabulary_size < slice_tokens

    def _evaluate_batch(self, inputs, targets, state):
        logits, state = self.model(inputs, state)
        return (*summed_loss_and_correct(logits, targets), state)

    # ---- distributing batches and state over replicas ---------------------------------------
    def _per_replica(self, value):
        """Splits this worker's rows of a global value into one slice per local replica."""
        if self.replicas == 1:
            return value
        slices = batch_slices(value, len(self.local_replicas))  # once, not once per replica
        first = self.local_replicas[0]
        return self.strategy.experimental_distribute_values_from_function(
            lambda context: slices[context.replica_id_in_sync_group - first])

    def carried(self):
        """The LSTM state carried from the last step (restored with the checkpoint), as
        `step` takes it."""
        return self._per_replica(tf.nest.map_structure(
            lambda t: t[self.rows], unpack_state(self.carried_state)))

    def zero_state(self):
        return self._per_replica(self.model.initial_state(self.config.batch_size // self.workers))

    @tf.function
    def _remember_state(self, state) -> None:
        """Gathers every replica's state (of every worker) into `carried_state`."""
        packed = self.strategy.run(pack_state, (state,))
        self.carried_state.assign(self.strategy.gather(packed, axis=2) if self.replicas > 1
                                  else packed)

    # ---- checkpoints ----------------------------------------------------------------------
    @property
    def current_step(self) -> int:
        return int(self.optimizer.iterations.numpy())

    def restore(self) -> bool:
        """Restores the newest checkpoint, if any; returns whether there was one. Only the
        chief reads it: the other workers take the chief's values."""
        found = self.is_chief and self.manager.latest_checkpoint
        if found:
            restore_checkpoint(self.checkpoint, self.manager.latest_checkpoint)
        if self.workers > 1:
            distribute.copy_from_chief(self.strategy, [
                *self.model.variables, *self.optimizer.variables, self.rng.state,
                self.carried_state])
        return self.current_step > 0 if self.workers > 1 else bool(found)

    def save(self, state) -> str:
        """Saves a checkpoint of this step; returns its path. Every worker must call it at the
        same step: the state is gathered from all of them."""
        self._remember_state(state)
        step = self.current_step
        if self.is_chief:
            return checkpoints.save(self.manager, step)
        with tempfile.TemporaryDirectory(prefix="lstm-core-worker-") as scratch:
            tf.train.CheckpointManager(self.checkpoint, scratch, 1).save(checkpoint_number=step)
        return os.path.join(self.manager.directory, f"ckpt-{step}")  # where the chief saved it

    # ---- the loop -------------------------------------------------------------------------
    def writer(self, split: str) -> tf.summary.SummaryWriter:
        """The TensorBoard writer of `split` (on workers other than the chief, one that writes
        nothing)."""
        if split not in self._writers:
            self._writers[split] = (
                tf.summary.create_file_writer(os.path.join(self.log_dir, split))
                if self.is_chief else tf.summary.create_noop_writer())
        return self._writers[split]

    @property
    def tokens_per_step(self) -> int:
        return self.config.batch_size * self.config.sequence_length

    @property
    def total_steps(self) -> int:
        """`max_steps` when given (the passes then go on past `epochs`: the epochs only pace
        the learning-rate decay), else `epochs` passes over the training batches."""
        return self.config.max_steps or self.config.epochs * self.train_batches.num_batches

    def train(self, callbacks: TrainingCallbacks | None = None) -> dict:
        """Trains until the epochs or the step limit are done; returns the last metrics, in the
        order of `METRICS`. `callbacks` hear of each step, log, validation and checkpoint, and
        take the lines for the user (on the chief).

        The data position is the step: step ``s`` reads batch ``s % batches_per_epoch`` of
        epoch ``s // batches_per_epoch``. Ctrl-C or `kill` (SIGTERM) on any worker stops every
        worker at the end of the same step and saves a checkpoint, then raises `Interrupted`
        (twice: this worker stops at once, losing the steps since the last checkpoint); a
        process alone abandons a validation under way and skips the hooks. A loss that is not
        finite raises `Diverged`. Every validation follows a step trained in this call.
        """
        config, batches = self.config, self.train_batches.num_batches
        step = first_step = self.current_step
        state, zeros = self.carried(), self.zero_state()  # zeros: built once, not per step
        callbacks = callbacks or TrainingCallbacks()
        window, metrics, validated_at = _Window(), {}, None
        validation_interval = self.validation_interval
        self.best.resume_at(step)
        if self._should_stop_early():  # stopped early before (or --early_stopping was lowered)
            if self.is_chief:
                callbacks.on_message(f"nothing to train: {self.best.stop(step)}")
            return self.best.metrics()
        callbacks.on_start(step, self.total_steps)
        stop = _StopOnInterrupt(callbacks.on_message)
        # Under several workers a validation runs to its end: each must take the same decisions.
        abandon = (lambda: stop.signal_number != 0) if self.workers == 1 else None
        try:
            for epoch in range(step // batches, -(-self.total_steps // batches)):
                if step >= self.total_steps or self._should_stop_early():
                    break
                if step % batches == 0:  # a new pass: the streams start over from zero state
                    state = zeros
                for inputs, targets in self.train_batches.dataset(epoch, step % batches,
                                                                  rows=self.rows):
                    result = self.step(inputs, targets,
                                       zeros if self.train_batches.shuffle else state,
                                       stop.votes)
                    state, step, loss = result.state, step + 1, float(result.loss)

                    # Divergence: stop before a checkpoint can keep the broken weights.
                    if not math.isfinite(loss):
                        raise Diverged(
                            f"training diverged: the loss is {loss} at step {step}; the last "
                            f"good checkpoint ({self.manager.latest_checkpoint or 'none yet'}) "
                            "is kept; lower --learning_rate or --gradient_clip and run the "
                            "command again")

                    # Progress and the training metrics.
                    window.add(loss, float(result.accuracy), float(result.gradient_norm))
                    callbacks.on_step(step, {"loss": loss, "accuracy": float(result.accuracy),
                                             "gradient_norm": float(result.gradient_norm)})
                    if step % config.log_frequency == 0 or step == self.total_steps:
                        metrics.update(self._log_training(step, epoch, window, callbacks))

                    # Validation, the best checkpoint and early stopping.
                    if step % validation_interval == 0:
                        validation = self._validate(step, callbacks, abandon)
                        metrics.update(validation)
                        validated_at = step
                        if self._keep_best(step, validation, callbacks.on_message):
                            break

                    # Hooks (samples, internals), on the chief only: they write TensorBoard.
                    for every, hook in self.hooks if self.is_chief else ():
                        if step % every == 0 and not stop.signal_number:
                            with self.writer("train").as_default(step=step):
                                hook(step)

                    # Checkpoints.
                    if step % config.checkpoint_every == 0:
                        callbacks.on_checkpoint(step, self.save(state))

                    # A stop asked for on any worker: every worker sees the same votes (one
                    # step after the signal; a process alone stops at this step).
                    votes = result.stop_votes.numpy()
                    if votes.any() or (self.workers == 1 and stop.signal_number):
                        asked_here = stop.signal_number != 0
                        signal_number = stop.signal_number or int(
                            STOP_SIGNALS[int(np.argmax(votes > 0))])
                        saved = self.save(state)
                        callbacks.on_checkpoint(step, saved)
                        raise Interrupted(step, saved, signal_number, asked_here)
                    if step >= self.total_steps:
                        break
            if validated_at != step and step > first_step:
                validation = self._validate(step, callbacks)
                metrics.update(validation)
                self._keep_best(step, validation, callbacks.on_message)
            callbacks.on_checkpoint(step, self.save(state))
            metrics.update(self.best.metrics())
        finally:
            stop.release()
            callbacks.on_end()
            for writer in self._writers.values():
                writer.flush()
        return {name: metrics[name] for name in METRICS if name in metrics}

    @property
    def validation_interval(self) -> int:
        """Steps between validations: `validation_every` when given, else once an epoch, but no
        more often than the log lines (a corpus of a few batches would validate every few steps)
        nor less often than twice in the run."""
        if self.config.validation_every:
            return self.config.validation_every
        epoch = self.train_batches.num_batches
        return max(1, min(max(epoch, self.config.log_frequency), -(-self.total_steps // 2)))

    def _should_stop_early(self) -> bool:
        """The chief's `BestCheckpoint.should_stop`: only the chief has the record of every
        validation of a resumed model, and every worker must stop at the same step."""
        stop = self.best.should_stop()
        return distribute.chief_says(self.strategy, stop) if self.workers > 1 else stop

    def _keep_best(self, step: int, validation: dict, report: Callable[[str], None]) -> bool:
        """Keeps the checkpoint of the lowest validation loss (every worker saves); returns
        whether to stop early (the chief says so on a line). `validation`: the metrics of this
        step's validation (empty: none, or abandoned)."""
        if "validation_loss" not in validation:
            return False
        self.best.add(step, validation["validation_loss"])
        if not self._should_stop_early():
            return False
        if self.is_chief:
            report(self.best.stop(step))
        return True

    def _log_training(self, step: int, epoch: int, window: "_Window",
                      callbacks: TrainingCallbacks) -> dict:
        loss, accuracy, norm = window.mean()
        tokens_per_second = window.steps * self.tokens_per_step / max(window.seconds(), 1e-9)
        learning_rate = float(self.optimizer.current_learning_rate())
        metrics = {"loss": loss, "bits_per_token": loss / LOG2, "accuracy": accuracy,
                   "tokens_per_second": tokens_per_second, "gradient_norm": norm,
                   "learning_rate": learning_rate}
        with self.writer("train").as_default(step=step):
            for name, value in metrics.items():
                tf.summary.scalar(name, value)
        callbacks.on_log(step, metrics)
        callbacks.on_message(f"step {step}/{self.total_steps} epoch {epoch + 1}: loss {loss:.4f}, "
                       f"bits/token {loss / LOG2:.3f}, accuracy {accuracy:.3f}, "
                       f"{tokens_per_second:,.0f} tokens/s, grad norm {norm:.2f}, "
                       f"lr {learning_rate:.2e}")
        window.reset()
        return metrics

    def _validate(self, step: int, callbacks: TrainingCallbacks,
                  abandon: Callable[[], bool] | None = None) -> dict:
        metrics = self.validate(step, callbacks.on_message, abandon)
        if metrics:
            callbacks.on_validation(step, metrics)
        return metrics

    def validate(self, step: int, report: Callable[[str], None] = lambda line: None,
                 abandon: Callable[[], bool] | None = None) -> dict:
        """Loss, bits per token and accuracy over the validation sample (`validation_tokens`
        of the held-out split, counted in `validation_tokens`), reported (by the chief) as one
        line through `report` (while training, the callbacks' `on_message`). Empty without a
        validation split, or when `abandon()` turns true between two batches (a stop asked
        for: nothing is reported)."""
        if self.validation_batches is None:
            return {}
        batches = self.validation_batches
        state = self.model.initial_state(batches.batch_size)
        total_loss = total_correct = 0.0
        for inputs, targets in batches.dataset():
            if abandon and abandon():
                return {}
            loss, correct, state = self._evaluate(inputs, targets, state)
            total_loss, total_correct = total_loss + float(loss), total_correct + float(correct)
        tokens = batches.num_batches * batches.batch_size * batches.sequence_length
        metrics = {"validation_loss": total_loss / tokens,
                   "validation_bits_per_token": total_loss / tokens / LOG2,
                   "validation_accuracy": total_correct / tokens, "validation_tokens": tokens}
        with self.writer("validation").as_default(step=step):
            for name in ("loss", "bits_per_token", "accuracy", "tokens"):
                tf.summary.scalar(name, metrics["validation_" + name])
        if self.is_chief:
            report(f"step {step} validation: loss {metrics['validation_loss']:.4f}, bits/token "
                   f"{metrics['validation_bits_per_token']:.3f}, accuracy "
                   f"{metrics['validation_accuracy']:.3f} ({tokens:,} tokens)")
        return metrics


class _StopOnInterrupt:
    """Turns the first Ctrl-C (SIGINT) or `kill` (SIGTERM) into a vote to stop after the
    current step; a second one interrupts at once. `report` prints its line (above the
    progress bar)."""

    def __init__(self, report: Callable[[str], None] = lambda line: None):
        self.signal_number, self.report = 0, report
        self.votes = NO_STOP
        self.previous = {signum: signal.signal(signum, self._request) for signum in STOP_SIGNALS}

    def _request(self, signum, frame) -> None:
        self.signal_number = signum
        self.votes = np.float32(np.array(STOP_SIGNALS) == signum)
        self.report("stopping after this step (Ctrl-C again to stop now)...")
        self.release()

    def release(self) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        self.previous = {}


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


class _Window:
    """Running means of the step metrics between two log lines."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.steps, self.sums, self.started = 0, np.zeros(3), time.perf_counter()

    def add(self, *values: float) -> None:
        self.steps += 1
        self.sums += values

    def mean(self) -> tuple[float, float, float]:
        return tuple(self.sums / max(self.steps, 1))

    def seconds(self) -> float:
        return time.perf_counter() - self.started
