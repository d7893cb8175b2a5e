"""What a resumed run needs, and where it is saved: the checkpoint of the training state.

The checkpoint holds the weights, Adam's moments and step (which is also the data position),
the random generator of the dropout masks and the carried LSTM state of the whole global batch
(and the attention's window, for a model with attention; the bar memory, for one with lookback),
so an interrupted run continues exactly as if it had never stopped, on the same or on a
different number of workers. TensorFlow writes each checkpoint to temporary files and renames
them, and `CheckpointManager` updates its index last: a crash mid-save leaves the previous
checkpoint intact.

Under several workers only the chief writes checkpoints; the other workers save into a
temporary folder they delete, as every worker must call save (the state is gathered from all
of them). The chief alone reads the checkpoint to resume; the others take its values.
"""

from __future__ import annotations

import os
import tempfile
from typing import Callable

import tensorflow as tf

from lstm_core import checkpoints, distribute
from lstm_core.attention import AttentiveState
from lstm_core.best_checkpoint import BestCheckpoint
from lstm_core.cell import LSTMState
from lstm_core.lookback import BarMemory, LookbackState
from lstm_core.model import LanguageModel, ModelState, lstm_part, with_memory
from lstm_core.optimizer import Adam
from lstm_core.replicas import Replicas
from lstm_core.saved import restore_checkpoint
from lstm_core.stack import StackState


def pack_state(state: StackState) -> tf.Tensor:
    """Per-layer states → one tensor `[layers, 2, batch, units]` (hidden, cell)."""
    return tf.stack([tf.stack(layer) for layer in state])


def unpack_state(packed: tf.Tensor) -> StackState:
    return tuple(LSTMState(layer[0], layer[1]) for layer in tf.unstack(packed))


def beyond_lstm(state: ModelState) -> dict[str, tf.Tensor]:
    """The parts of a model's state besides the LSTM's, by their name in the checkpoint
    (``carried_window``, ``carried_bar_*``), each with the batch first."""
    parts = {}
    if isinstance(state, LookbackState):
        parts.update({f"carried_bar_{name}": value
                      for name, value in state.memory._asdict().items()})
        state = state.inner
    if isinstance(state, AttentiveState):
        parts["carried_window"] = state.window
    return parts


def with_parts(lstm: StackState, parts: dict[str, tf.Tensor]) -> ModelState:
    """The model's state of the LSTM's and the `beyond_lstm` parts."""
    inner = AttentiveState(lstm, parts["carried_window"]) if "carried_window" in parts else lstm
    memory = (BarMemory(*(parts[f"carried_bar_{name}"] for name in BarMemory._fields))
              if "carried_bar_bars" in parts else None)
    return with_memory(inner, memory)


class TrainingState:
    def __init__(self, model: LanguageModel, optimizer: Adam, replicas: Replicas,
                 checkpoint_dir: str, batch_size: int, random_seed: int, early_stopping: int):
        """
        Args:
          checkpoint_dir: where checkpoints are kept (the three newest, and the best).
          batch_size: the global batch, whose LSTM state is carried `[layers, 2, batch, units]`.
          random_seed: seeds the generator of the dropout masks.
          early_stopping: validations without a lower loss before stopping (0: never).
        """
        self.model, self.optimizer, self.replicas = model, optimizer, replicas
        self.batch_size = batch_size
        self.rng = tf.random.Generator.from_seed(random_seed)
        initial = model.initial_state(batch_size)
        self.carried_state = tf.Variable(pack_state(lstm_part(initial)), name="carried_state")
        # The window `[batch, N, units]` and the bar memory, in the checkpoint only with attention
        # or lookback: a model without them keeps the objects its checkpoints have always held.
        self.carried_parts = {name: tf.Variable(value, name=name)
                              for name, value in beyond_lstm(initial).items()}
        self.checkpoint = tf.train.Checkpoint(
            model=model, optimizer=optimizer, rng=self.rng, carried_state=self.carried_state,
            **self.carried_parts)
        self.manager = tf.train.CheckpointManager(self.checkpoint, checkpoint_dir, max_to_keep=3)
        # The other workers keep their best checkpoint in a folder deleted with this state;
        # whether to stop early is the chief's decision (`should_stop_early`).
        self._scratch = None if replicas.is_chief else tempfile.TemporaryDirectory(
            prefix="lstm-core-worker-")
        self.best = BestCheckpoint(self.checkpoint, checkpoint_dir if replicas.is_chief
                                   else self._scratch.name, early_stopping)

    @property
    def current_step(self) -> int:
        return int(self.optimizer.iterations.numpy())

    def carried(self):
        """The LSTM state carried from the last step (restored with the checkpoint), per
        replica, as `TrainStep` takes it."""
        return self.replicas.per_replica(tf.nest.map_structure(
            lambda t: t[self.replicas.rows], self._carried_value()))

    def zero_state(self):
        """The state a stream starts from, per replica (this worker's rows)."""
        return self.replicas.per_replica(
            self.model.initial_state(self.batch_size // self.replicas.workers))

    def state_spec(self):
        """The `tf.TensorSpec`s of the global batch's state, as `TrainStep.graph` takes it."""
        return tf.nest.map_structure(lambda t: tf.TensorSpec(t.shape, t.dtype),
                                     self._carried_value())

    def _carried_value(self) -> ModelState:
        """The model's state of the global batch, from the carried variables."""
        return with_parts(unpack_state(self.carried_state), {
            name: tf.convert_to_tensor(variable) for name, variable in self.carried_parts.items()})

    @tf.function
    def _remember(self, state) -> None:
        """Gathers every replica's state (of every worker) into `carried_state` (and the
        `carried_parts`)."""
        replicas = self.replicas
        packed = replicas.strategy.run(lambda s: pack_state(lstm_part(s)), (state,))
        self.carried_state.assign(replicas.strategy.gather(packed, axis=2)
                                  if replicas.replicas > 1 else packed)
        for name, variable in self.carried_parts.items():
            part = replicas.strategy.run(lambda s, name=name: beyond_lstm(s)[name], (state,))
            variable.assign(replicas.strategy.gather(part, axis=0)
                            if replicas.replicas > 1 else part)

    def restore(self) -> bool:
        """Restores the newest checkpoint, if any; returns whether there was one. Only the
        chief reads it: the other workers take the chief's values."""
        found = self.replicas.is_chief and self.manager.latest_checkpoint
        if found:
            restore_checkpoint(self.checkpoint, self.manager.latest_checkpoint)
        if self.replicas.workers > 1:
            distribute.copy_from_chief(self.replicas.strategy, [
                *self.model.variables, *self.optimizer.variables, self.rng.state,
                self.carried_state, *self.carried_parts.values()])
        return self.current_step > 0 if self.replicas.workers > 1 else bool(found)

    def save(self, state) -> str:
        """Saves a checkpoint of this step with `state` (per replica) as the carried state;
        returns its path. Every worker must call it at the same step: the state is gathered
        from all of them."""
        self._remember(state)
        step = self.current_step
        if self.replicas.is_chief:
            return checkpoints.save(self.manager, step)
        with tempfile.TemporaryDirectory(prefix="lstm-core-worker-") as scratch:
            tf.train.CheckpointManager(self.checkpoint, scratch, 1).save(checkpoint_number=step)
        return os.path.join(self.manager.directory, f"ckpt-{step}")  # where the chief saved it

    def should_stop_early(self) -> bool:
        """The chief's `BestCheckpoint.should_stop`: only the chief has the record of every
        validation of a resumed model, and every worker must stop at the same step."""
        stop = self.best.should_stop()
        if self.replicas.workers > 1:
            return distribute.chief_says(self.replicas.strategy, stop)
        return stop

    def keep_best(self, step: int, validation: dict, report: Callable[[str], None]) -> bool:
        """Keeps the checkpoint of the lowest validation loss (every worker saves); returns
        whether to stop early (the chief says so through `report`). `validation`: the metrics
        of this step's validation (empty: none, or abandoned)."""
        if "validation_loss" not in validation:
            return False
        self.best.add(step, validation["validation_loss"])
        if not self.should_stop_early():
            return False
        if self.replicas.is_chief:
            report(self.best.stop(step))
        return True
