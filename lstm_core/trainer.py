"""The trainer: the loop that fits a model, composed of the parts of one training run.

`Trainer.train` runs the compiled step of `lstm_core.train_step` (under a
`tf.distribute.Strategy`) over the training batches, the LSTM state left by one batch starting
the next (contiguous streams, see `lstm_core.batch`). At their intervals it logs the metrics
(`lstm_core.training_log`), validates (`lstm_core.validation`), keeps the best checkpoint and
stops early, runs the hooks (TensorBoard summaries) and saves the checkpoint of
`lstm_core.training_state`, which holds everything a resumed run needs. Ctrl-C or `kill` stops
every worker at the end of the same step (`lstm_core.stop_signals`). The callbacks hear of each
event.

Under a time budget (`lstm_core.budget`) the learning rate follows the share of the time spent,
and the run stops when the time left would not hold one more step and a last validation.

Under `MultiWorkerMirroredStrategy` every worker runs this same loop in lockstep: it reads only
its own rows of each batch (`lstm_core.replicas`), and only the chief writes checkpoints and
TensorBoard logs and reports validations and early stopping.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from typing import Callable

import tensorflow as tf

from lstm_core import distribute
from lstm_core.batch import Batch
from lstm_core.budget import Budget, Deadline
from lstm_core.callbacks import TrainingCallbacks
from lstm_core.errors import UsageError
from lstm_core.model import LanguageModel, ModelConfig
from lstm_core.optimizer import Adam
from lstm_core.replicas import Replicas
from lstm_core.stop_signals import NO_STOP, StopOnInterrupt
from lstm_core.train_step import StepResult, TrainStep
from lstm_core.training_log import TrainingLog
from lstm_core.training_options import DEFAULTS
from lstm_core.training_state import TrainingState
from lstm_core.validation import Validation, bounded_sample

METRICS = ("loss", "bits_per_token", "accuracy", "validation_loss", "validation_bits_per_token",
           "validation_accuracy", "best_validation_loss", "best_step", "tokens_per_second",
           "gradient_norm", "learning_rate")
"""The order of `Trainer.train`'s metrics, whichever came first in the run (train.py's done:
line prints them so)."""


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
    validation_every: int = DEFAULTS.validation_every  # 0: `interval_between_validations`
    # Tokens one validation reads: the most whole batches within them, spread over the whole
    # split and the same every time (`Batch.sample`, seeded by `random_seed`); 0: the whole split.
    validation_tokens: int = DEFAULTS.validation_tokens
    random_seed: int = DEFAULTS.random_seed
    early_stopping: int = DEFAULTS.early_stopping
    # How many slices of its batch one replica computes side by side (0: on the CPU alone, one
    # per core, the largest count up to the cores that divides the batch, or for a step of
    # `train_step.MEASURED_SLICING_FLOPS` or more the faster of that and the whole batch, timed).
    shards_per_replica: int = 0
    # Fold the embedding into the first layer's input projection (None: when the table
    # `[vocabulary, 4*units]` is smaller than the projected slice `[tokens, 4*units]`).
    fold_embedding: bool | None = None
    # A time budget: the run stops when it is spent, and the learning rate follows its
    # schedule over it in place of `learning_rate_decay` (`lstm_core.budget`).
    budget: Budget | None = None


class Diverged(UsageError):
    """The loss is not finite: the learning rate or the clip norm is too high."""

    def __init__(self, loss: float, step: int, checkpoint: str | None):
        super().__init__(f"training diverged: the loss is {loss} at step {step}; the last good "
                         f"checkpoint ({checkpoint or 'none yet'}) is kept; lower "
                         "--learning_rate or --gradient_clip and run the command again")


def interval_between_validations(config: TrainingConfig, epoch: int, total_steps: int) -> int:
    """Steps between validations: `validation_every` when given, else once an `epoch` (in
    steps), but no more often than the log lines (a corpus of a few batches would validate every
    few steps) nor less often than twice in the run."""
    if config.validation_every:
        return config.validation_every
    return max(1, min(max(epoch, config.log_frequency), -(-total_steps // 2)))


class Interrupted(Exception):
    """Training stopped at a step boundary because Ctrl-C (SIGINT) or SIGTERM reached this
    worker or another one; a checkpoint of that step is saved."""

    def __init__(self, step: int, checkpoint: str, signal_number: int, here: bool):
        super().__init__(f"interrupted at step {step}: saved {checkpoint}")
        self.step, self.checkpoint, self.signal_number, self.here = (
            step, checkpoint, signal_number, here)


# A hook runs every `every` steps, with the train summary writer as the default writer.
Hook = tuple[int, Callable[[int], None]]


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
        self.config, self.train_batches = config, train
        self.validation_batches = bounded_sample(validation, config.validation_tokens,
                                                 config.random_seed)
        self.strategy = strategy or distribute.local_strategy()
        self.layout = Replicas(self.strategy, config.batch_size)
        self.replicas, self.workers = self.layout.replicas, self.layout.workers
        self.is_chief = self.layout.is_chief
        with self.strategy.scope():
            self.model = model or LanguageModel(model_config, seed=config.random_seed)
            self.optimizer = optimizer or Adam(
                self.model.trainable_variables, config.learning_rate, config.learning_rate_decay,
                train.num_batches, config.gradient_clip,
                schedule=config.budget.schedule if config.budget else None)
        if config.budget and self.workers > 1:  # each worker's clock would stop it elsewhere
            raise UsageError("--minutes and --cpu_seconds train on one machine; leave them out "
                             "under TF_CONFIG and give --max_steps")
        if config.early_stopping and validation is None:
            raise UsageError("--early_stopping needs a validation split to watch; raise "
                             "--validation_fraction, or leave --early_stopping out")
        self.state = TrainingState(self.model, self.optimizer, self.layout, checkpoint_dir,
                                   config.batch_size, config.random_seed, config.early_stopping)
        self.manager, self.best = self.state.manager, self.state.best
        self.carried_state = self.state.carried_state  # `[layers, 2, batch, units]`
        self.out_of_time = False  # whether the budget stopped the last `train`
        self.log = TrainingLog(log_dir, self.is_chief, self.tokens_per_step)
        self.hooks: list[Hook] = []
        self.train_step = TrainStep(self.model, self.optimizer, self.layout, self.state.rng,
                                    config.batch_size, config.sequence_length,
                                    config.shards_per_replica, config.fold_embedding)
        self.shards_per_replica = self.train_step.shards_per_replica
        self.fold_embedding = self.train_step.fold_embedding
        self.validator = (None if self.validation_batches is None else Validation(
            self.model, self.validation_batches, self.is_chief))
        # The parts' methods, as the trainer's (their docstrings say what each does).
        self.carried, self.zero_state = self.state.carried, self.state.zero_state
        self.restore, self.save, self.writer = self.state.restore, self.state.save, self.log.writer

    def step(self, inputs: tf.Tensor, targets: tf.Tensor, state, stop_votes=NO_STOP
             ) -> StepResult:
        """One optimizer step on this worker's rows `[rows, time]` (`TrainStep.__call__`)."""
        return self.train_step(inputs, targets, state, stop_votes)

    def step_graph(self) -> tf.Graph:
        """The graph of the training step, for TensorBoard (traced by the first step)."""
        return self.train_step.graph(self.state.state_spec())

    @property
    def current_step(self) -> int:
        return self.state.current_step

    @property
    def tokens_per_step(self) -> int:
        return self.config.batch_size * self.config.sequence_length

    @property
    def total_steps(self) -> int:
        """`max_steps` when given (the passes then go on past `epochs`: the epochs only pace
        the learning-rate decay), else `epochs` passes over the training batches."""
        return self.config.max_steps or self.config.epochs * self.train_batches.num_batches

    # ---- the loop -------------------------------------------------------------------------
    def train(self, callbacks: TrainingCallbacks | None = None,
              deadline: Deadline | None = None) -> dict:
        """Trains until the epochs, the step limit or the time budget are done; returns the last
        metrics, in the order of `METRICS`. `deadline`: the budget's clock (default: the
        config's budget, started now). `callbacks` hear of each step, log, validation and
        checkpoint, and take the lines for the user (on the chief).

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
        metrics, validated_at, self.out_of_time = {}, None, False
        deadline = deadline or (config.budget.start() if config.budget else None)
        lap = deadline.lap if deadline else lambda what, counted: contextlib.nullcontext()
        validation_interval = interval_between_validations(config, batches, self.total_steps)
        self.best.resume_at(step)
        if self.state.should_stop_early():  # stopped early before (or --early_stopping was lowered)
            if self.is_chief:
                callbacks.on_message(f"nothing to train: {self.best.stop(step)}")
            return self.best.metrics()
        callbacks.on_start(step, self.total_steps)
        stop = StopOnInterrupt(callbacks.on_message)
        self.log.reset()  # the tokens per second count from here
        # Under several workers a validation runs to its end: each must take the same decisions.
        abandon = (lambda: stop.signal_number != 0) if self.workers == 1 else None
        try:
            for epoch in range(step // batches, -(-self.total_steps // batches)):
                if (step >= self.total_steps or self.state.should_stop_early()
                        or self.out_of_time):
                    break
                if step % batches == 0:  # a new pass: the streams start over from zero state
                    state = zeros
                for inputs, targets in self.train_batches.dataset(epoch, step % batches,
                                                                  rows=self.layout.rows):
                    if deadline:
                        self.optimizer.progress.assign(deadline.progress())
                    with lap("step", step > first_step):  # the first step also compiles
                        result = self.step(inputs, targets,
                                           zeros if self.train_batches.shuffle else state,
                                           stop.votes)
                    state, step, loss = result.state, step + 1, float(result.loss)

                    # Divergence: stop before a checkpoint can keep the broken weights.
                    if not math.isfinite(loss):
                        raise Diverged(loss, step, self.manager.latest_checkpoint)

                    # Progress and the training metrics.
                    self.log.add(loss, float(result.accuracy), float(result.gradient_norm))
                    callbacks.on_step(step, {"loss": loss, "accuracy": float(result.accuracy),
                                             "gradient_norm": float(result.gradient_norm)})
                    if step % config.log_frequency == 0 or step == self.total_steps:
                        metrics.update(self.log.log(
                            step, self.total_steps, epoch,
                            float(self.optimizer.current_learning_rate()), callbacks))

                    # Validation, the best checkpoint and early stopping.
                    if step % validation_interval == 0:
                        with lap("validation", validated_at is not None):
                            validation = self._validate(step, callbacks, abandon)
                        metrics.update(validation)
                        validated_at = step
                        if self.state.keep_best(step, validation, callbacks.on_message):
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
                        signal_number = stop.signal_number or stop.signal_of(votes)
                        saved = self.save(state)
                        callbacks.on_checkpoint(step, saved)
                        raise Interrupted(step, saved, signal_number, asked_here)
                    if deadline and deadline.spent():
                        self.out_of_time = True
                        if self.is_chief:
                            callbacks.on_message(f"the time budget is spent at step {step}")
                    if step >= self.total_steps or self.out_of_time:
                        break
            if validated_at != step and step > first_step:
                validation = self._validate(step, callbacks)
                metrics.update(validation)
                self.state.keep_best(step, validation, callbacks.on_message)
            callbacks.on_checkpoint(step, self.save(state))
            metrics.update(self.best.metrics())
        finally:
            stop.release()
            callbacks.on_end()
            self.log.flush()
        return {name: metrics[name] for name in METRICS if name in metrics}

    def _validate(self, step: int, callbacks: TrainingCallbacks,
                  abandon: Callable[[], bool] | None = None) -> dict:
        metrics = self.validate(step, callbacks.on_message, abandon)
        if metrics:
            callbacks.on_validation(step, metrics)
        return metrics

    def validate(self, step: int, report: Callable[[str], None] = lambda line: None,
                 abandon: Callable[[], bool] | None = None) -> dict:
        """`Validation.run` over the validation sample, written to the `validation` writer,
        reported through `report` (while training, the callbacks' `on_message`); empty without
        a validation split."""
        if self.validator is None:
            return {}
        return self.validator.run(step, lambda: self.writer("validation"), report, abandon)
