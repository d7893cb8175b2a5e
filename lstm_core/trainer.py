"""The trainer: a custom `tf.GradientTape` loop under a `tf.distribute.Strategy`.

One step: each replica runs its slice of the batch forward and backward (one XLA-compiled
function; on the CPU alone, one per core on a slice each), the gradients are summed, and `Adam`
updates the weights. The
LSTM state left by one batch starts the next (contiguous streams, see `lstm_core.batch`).

Everything a resumed run needs is in the checkpoint: weights, Adam's moments and step (which is
also the data position), the random generator of the dropout masks and the carried LSTM state,
so an interrupted run continues exactly as if it had never stopped. TensorFlow writes each
checkpoint to temporary files and renames them, and `CheckpointManager` updates its index last:
a crash mid-save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import dataclasses
import math
import os
import signal
import time
from typing import Callable

import numpy as np
import tensorflow as tf

from lstm_core import checkpoints
from lstm_core.batch import Batch
from lstm_core.best_checkpoint import BestCheckpoint
from lstm_core.cell import LSTMState
from lstm_core.errors import UsageError
from lstm_core.model import LanguageModel, ModelConfig
from lstm_core.optimizer import Adam
from lstm_core.progress import ProgressBar
from lstm_core.saved import restore_checkpoint
from lstm_core.stack import StackState

LOG2 = math.log(2.0)


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    batch_size: int = 50
    sequence_length: int = 50
    epochs: int = 10
    max_steps: int = 0  # 0: no limit but the epochs
    learning_rate: float = 0.002
    decay_rate: float = 0.97  # the learning rate is multiplied by this once per epoch
    clip_norm: float = 5.0
    log_frequency: int = 100
    checkpoint_every: int = 1000
    validation_every: int = 0  # 0: `validation_interval` chooses
    seed: int = 0
    early_stopping: int = 0  # stop after this many validations without a lower loss (0: never)


# A hook runs every `every` steps, with the train summary writer as the default writer.
Hook = tuple[int, Callable[[int], None]]


def pack_state(state: StackState) -> tf.Tensor:
    """Per-layer states → one tensor `[layers, 2, batch, units]` (hidden, cell)."""
    return tf.stack([tf.stack(layer) for layer in state])


def unpack_state(packed: tf.Tensor) -> StackState:
    return tuple(LSTMState(layer[0], layer[1]) for layer in tf.unstack(packed))


def batch_slices(value, parts: int) -> list:
    """`value` (a tensor or a nest of them) cut along the batch axis into `parts` equal slices,
    one nest like `value` per slice (one split per tensor)."""
    pieces = [tf.split(v, parts) for v in tf.nest.flatten(value)]
    return [tf.nest.pack_sequence_as(value, [p[k] for p in pieces]) for k in range(parts)]


def summed_loss_and_correct(logits: tf.Tensor, targets: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """The cross-entropy summed over `[batch, time]`, and how many argmax predictions hit."""
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(targets, logits)
    predictions = tf.argmax(logits, axis=-1, output_type=tf.int32)
    return tf.reduce_sum(losses), tf.reduce_sum(tf.cast(predictions == targets, tf.float32))


def choose_strategy() -> tf.distribute.Strategy:
    """`MirroredStrategy` over every GPU when there are several, else the default strategy."""
    gpus = tf.config.list_logical_devices("GPU")
    return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()


class Trainer:
    def __init__(self, model_config: ModelConfig, config: TrainingConfig, train: Batch,
                 validation: Batch | None, checkpoint_dir: str, log_dir: str,
                 strategy: tf.distribute.Strategy | None = None):
        """
        Args:
          train, validation: the batches of each split (validation may be None: too short).
          checkpoint_dir: where checkpoints are kept (the three newest).
          log_dir: TensorBoard logs go to `log_dir/train` and `log_dir/validation`.
        """
        self.config, self.train_batches, self.validation_batches = config, train, validation
        self.strategy = strategy or choose_strategy()
        self.replicas = self.strategy.num_replicas_in_sync
        if config.batch_size % self.replicas:
            raise UsageError(f"--batch_size {config.batch_size} does not split evenly over "
                             f"{self.replicas} devices; use a multiple of {self.replicas}")
        with self.strategy.scope():
            self.model = LanguageModel(model_config, seed=config.seed)
            self.optimizer = Adam(self.model.trainable_variables, config.learning_rate,
                                  config.decay_rate, train.num_batches, config.clip_norm)
        self.rng = tf.random.Generator.from_seed(config.seed)
        self.carried_state = tf.Variable(pack_state(self.model.initial_state(config.batch_size)),
                                         name="carried_state")
        self.checkpoint = tf.train.Checkpoint(
            model=self.model, optimizer=self.optimizer, rng=self.rng,
            carried_state=self.carried_state)
        self.manager = tf.train.CheckpointManager(self.checkpoint, checkpoint_dir, max_to_keep=3)
        if config.early_stopping and validation is None:
            raise UsageError("--early_stopping needs a validation split to watch; raise "
                             "--validation_fraction, or leave --early_stopping out")
        self.best = BestCheckpoint(self.checkpoint, checkpoint_dir, config.early_stopping)
        self.log_dir = log_dir
        self.hooks: list[Hook] = []
        self._writers: dict[str, tf.summary.SummaryWriter] = {}
        self._train_step = self._build_train_step()
        self._evaluate = tf.function(self._evaluate_batch, jit_compile=True)

    # ---- the compiled step ----------------------------------------------------------------
    def _build_train_step(self):
        model, strategy, optimizer = self.model, self.strategy, self.optimizer
        variables = model.trainable_variables
        global_tokens = float(self.tokens_per_step)
        shards = self._shards_per_replica()
        fold_embedding = self._fold_embedding(shards)

        @tf.function(jit_compile=True)
        def gradients(inputs, targets, state, seed):
            with tf.GradientTape() as tape:
                logits, state = model(inputs, state, training=True, seed=seed,
                                      fold_embedding=fold_embedding)
                summed_loss, correct = summed_loss_and_correct(logits, targets)
                loss = summed_loss / global_tokens  # summed over replicas: the mean
            grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]
            return grads, loss, correct, state

        def replica_step(inputs, targets, state, seed):
            replica = tf.distribute.get_replica_context().replica_id_in_sync_group
            seed = tf.random.experimental.stateless_fold_in(seed, replica)
            if shards == 1:
                return gradients(inputs, targets, state, seed)
            # One XLA computation per core on a slice of the batch: the executor runs them side
            # by side, where one computation would run its small per-step matmuls on one core.
            parts = [gradients(*piece, tf.random.experimental.stateless_fold_in(seed, shard))
                     for shard, piece in enumerate(batch_slices((inputs, targets, state), shards))]
            grads, loss, correct, states = zip(*parts)
            return ([tf.add_n(list(g)) for g in zip(*grads)], tf.add_n(list(loss)),
                    tf.add_n(list(correct)),
                    tf.nest.map_structure(lambda *pieces: tf.concat(pieces, 0), *states))

        @tf.function
        def train_step(inputs, targets, state):
            """One optimizer step on a global batch; returns loss, accuracy, gradient norm and
            the LSTM state to carry (per replica)."""
            seed = self.rng.make_seeds(1)[:, 0]
            grads, loss, correct, state = strategy.run(replica_step,
                                                       (inputs, targets, state, seed))
            total = lambda value: strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
            norm = optimizer.apply([total(g) for g in grads], variables)
            return total(loss), total(correct) / global_tokens, norm, state

        return train_step

    def _shards_per_replica(self) -> int:
        """How many slices of its batch one replica computes side by side: one per CPU core
        when training on the CPU alone (the largest count up to the cores that divides the
        replica's batch), else 1."""
        if self.replicas > 1 or tf.config.list_logical_devices("GPU"):
            return 1
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
        return max(n for n in range(1, cores + 1) if self.config.batch_size % n == 0)

    def _fold_embedding(self, shards: int) -> bool:
        """Whether the step folds the embedding into the first layer's input projection: when
        the table (`[vocabulary, 4*units]`) is smaller than the projected slice of the batch
        (`[tokens, 4*units]`)."""
        slice_tokens = self.tokens_per_step // self.replicas // shards
        return self.model.config.vocabulary_size < slice_tokens

    def _evaluate_batch(self, inputs, targets, state):
        logits, state = self.model(inputs, state)
        return (*summed_loss_and_correct(logits, targets), state)

    # ---- distributing batches and state over replicas ---------------------------------------
    def _per_replica(self, value):
        """Splits a global value along its batch axis into one slice per replica."""
        if self.replicas == 1:
            return value
        slices = batch_slices(value, self.replicas)  # once, not once per replica
        return self.strategy.experimental_distribute_values_from_function(
            lambda context: slices[context.replica_id_in_sync_group])

    def _distributed_state(self, packed: tf.Tensor):
        return self._per_replica(unpack_state(packed))

    def _remember_state(self, state) -> None:
        packed = self.strategy.run(pack_state, (state,))
        self.carried_state.assign(self.strategy.gather(packed, axis=2) if self.replicas > 1
                                  else packed)

    # ---- checkpoints ----------------------------------------------------------------------
    def restore(self) -> bool:
        """Restores the newest checkpoint, if any; returns whether there was one."""
        latest = self.manager.latest_checkpoint
        if not latest:
            return False
        restore_checkpoint(self.checkpoint, latest)
        return True

    def save(self, state) -> str:
        self._remember_state(state)
        size = checkpoints.variables_size(
            [*self.model.variables, *self.optimizer.variables, self.carried_state])
        return checkpoints.save(self.manager, int(self.optimizer.iterations.numpy()), size)

    # ---- the loop -------------------------------------------------------------------------
    def writer(self, split: str) -> tf.summary.SummaryWriter:
        if split not in self._writers:
            self._writers[split] = tf.summary.create_file_writer(os.path.join(self.log_dir, split))
        return self._writers[split]

    @property
    def tokens_per_step(self) -> int:
        return self.config.batch_size * self.config.sequence_length

    @property
    def total_steps(self) -> int:
        steps = self.config.epochs * self.train_batches.num_batches
        return min(steps, self.config.max_steps) if self.config.max_steps else steps

    def train(self) -> dict:
        """Trains until the epochs or the step limit are done; returns the last metrics.

        The data position is the step: step ``s`` reads batch ``s % batches_per_epoch`` of
        epoch ``s // batches_per_epoch``. Ctrl-C or `kill` (SIGTERM) stops at the end of the
        current step and saves a checkpoint (twice: stop at once, losing the steps since the
        last one).
        """
        config, batches = self.config, self.train_batches.num_batches
        step = int(self.optimizer.iterations.numpy())
        carried = self._distributed_state(self.carried_state)
        zeros = self._distributed_state(pack_state(self.model.initial_state(config.batch_size)))
        state = carried
        progress, window = ProgressBar(self.total_steps, initial=step), _Window()
        last_good = self.manager.latest_checkpoint
        metrics: dict = {}
        validated_at, validation_interval = None, self.validation_interval
        self.best.resume_at(step)
        if self.best.should_stop():  # stopped early before (or --early_stopping was lowered)
            print(f"nothing to train: {self.best.stop(step)}")
            return self.best.metrics()
        stop = _StopOnInterrupt(progress.print)
        try:
            for epoch in range(step // batches, config.epochs):
                if step >= self.total_steps or self.best.should_stop():
                    break
                if step % batches == 0:  # a new pass: the streams start over from zero state
                    state = zeros
                for inputs, targets in self.train_batches.dataset(epoch, step % batches):
                    loss, accuracy, norm, state = self._train_step(
                        self._per_replica(inputs), self._per_replica(targets),
                        zeros if self.train_batches.shuffle else state)
                    step += 1
                    loss = float(loss)
                    if not math.isfinite(loss):
                        raise UsageError(
                            f"training diverged: the loss is {loss} at step {step}; the last good "
                            f"checkpoint ({last_good or 'none yet'}) is kept; lower "
                            "--learning_rate or --gradient_clip and run the command again")
                    window.add(loss, float(accuracy), float(norm))
                    progress.update(step, f"loss {loss:.3f}")
                    if step % config.log_frequency == 0 or step == self.total_steps:
                        metrics.update(self._log_training(step, epoch, window, progress))
                    if step % validation_interval == 0:
                        metrics.update(self.validate(step, progress.print))
                        validated_at = step
                        if self._keep_best(step, metrics, progress):
                            break
                    for every, hook in self.hooks:
                        if step % every == 0:
                            with self.writer("train").as_default(step=step):
                                hook(step)
                    if step % config.checkpoint_every == 0:
                        last_good = self.save(state)
                    if stop.requested:
                        progress.close()
                        print(f"interrupted at step {step}: saved {self.save(state)}; run the "
                              "same command to resume", flush=True)
                        raise SystemExit(stop.exit_status)
                    if step >= self.total_steps:
                        break
            if validated_at != step:
                metrics.update(self.validate(step, progress.print))
                self._keep_best(step, metrics, progress)
            self.save(state)
            metrics.update(self.best.metrics())
        finally:
            stop.release()
            progress.close()
            for writer in self._writers.values():
                writer.flush()
        return metrics

    @property
    def validation_interval(self) -> int:
        """Steps between validations: `validation_every` when given, else once an epoch, but no
        more often than the log lines (a corpus of a few batches would validate every few steps)
        nor less often than twice in the run."""
        if self.config.validation_every:
            return self.config.validation_every
        epoch = self.train_batches.num_batches
        return max(1, min(max(epoch, self.config.log_frequency), -(-self.total_steps // 2)))

    def _keep_best(self, step: int, metrics: dict, progress: ProgressBar) -> bool:
        """Keeps the checkpoint of the lowest validation loss; returns whether to stop early
        (saying so on a line)."""
        if "validation_loss" not in metrics:
            return False
        self.best.add(step, metrics["validation_loss"])
        if not self.best.should_stop():
            return False
        progress.print(self.best.stop(step))
        return True

    def _log_training(self, step: int, epoch: int, window: "_Window", progress: ProgressBar):
        loss, accuracy, norm = window.mean()
        tokens_per_second = window.steps * self.tokens_per_step / max(window.seconds(), 1e-9)
        learning_rate = float(self.optimizer.current_learning_rate())
        metrics = {"loss": loss, "bits_per_token": loss / LOG2, "accuracy": accuracy,
                   "tokens_per_second": tokens_per_second, "gradient_norm": norm,
                   "learning_rate": learning_rate}
        with self.writer("train").as_default(step=step):
            for name, value in metrics.items():
                tf.summary.scalar(name, value)
        progress.print(f"step {step}/{self.total_steps} epoch {epoch + 1}: loss {loss:.4f}, "
                       f"bits/token {loss / LOG2:.3f}, accuracy {accuracy:.3f}, "
                       f"{tokens_per_second:,.0f} tokens/s, grad norm {norm:.2f}, "
                       f"lr {learning_rate:.2e}")
        window.reset()
        return metrics

    def validate(self, step: int, report: Callable[[str], None] = print) -> dict:
        """Loss, bits per token and accuracy over the whole held-out split, reported as one
        line through `report` (while training, `ProgressBar.print`, which clears the bar)."""
        if self.validation_batches is None:
            return {}
        batches = self.validation_batches
        state = self.model.initial_state(batches.batch_size)
        total_loss = total_correct = 0.0
        for inputs, targets in batches.dataset():
            loss, correct, state = self._evaluate(inputs, targets, state)
            total_loss, total_correct = total_loss + float(loss), total_correct + float(correct)
        tokens = batches.num_batches * batches.batch_size * batches.sequence_length
        metrics = {"validation_loss": total_loss / tokens,
                   "validation_bits_per_token": total_loss / tokens / LOG2,
                   "validation_accuracy": total_correct / tokens}
        with self.writer("validation").as_default(step=step):
            for name in ("loss", "bits_per_token", "accuracy"):
                tf.summary.scalar(name, metrics["validation_" + name])
        report(f"step {step} validation: loss {metrics['validation_loss']:.4f}, bits/token "
               f"{metrics['validation_bits_per_token']:.3f}, accuracy "
               f"{metrics['validation_accuracy']:.3f}")
        return metrics


class _StopOnInterrupt:
    """Turns the first Ctrl-C (SIGINT) or `kill` (SIGTERM) into a request to stop after the
    current step; a second one interrupts at once. `report` prints its line (above the
    progress bar)."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, report: Callable[[str], None] = print):
        self.requested, self.report = False, report
        self.exit_status = 0  # 128 + the signal's number, as a shell reports a process it ended
        self.previous = {signum: signal.signal(signum, self._request) for signum in self.SIGNALS}

    def _request(self, signum, frame) -> None:
        self.requested, self.exit_status = True, 128 + signum
        self.report("stopping after this step (Ctrl-C again to stop now)...")
        self.release()

    def release(self) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        self.previous = {}


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
