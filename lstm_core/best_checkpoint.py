"""The best checkpoint by validation loss, kept beside the newest ones, and early stopping.

    logs/<model_name>/checkpoints/best/
        ckpt-STEP.*         the checkpoint of the lowest validation loss so far
        validations.json    every validation's step and loss, and where training stopped early

The newest weights are not always the best, least of all on a small corpus that a model soon
learns by heart (char-rnn names its checkpoints by validation loss for this reason).
``sample.py --checkpoint best`` samples the best; ``train.py --early_stopping N`` ends training
once N validations in a row have not lowered the loss. Every validation is recorded, so a
resumed run counts from where it resumes: the record is cut back to the restored step, and the
validations after it are run again as before.
"""

from __future__ import annotations

import json
import os

import tensorflow as tf

from lstm_core import checkpoints
from lstm_core.files import atomic_write

BEST_FOLDER = "best"  # inside the model's checkpoint folder
RECORD = "validations.json"


class BestCheckpoint:
    def __init__(self, checkpoint: tf.train.Checkpoint, checkpoint_dir: str, patience: int = 0):
        """
        Args:
          checkpoint: what to save (the trainer's whole state).
          checkpoint_dir: the model's checkpoint folder; the best goes to its `BEST_FOLDER`.
          patience: validations without a lower loss before `should_stop` (0: never).
        """
        self.directory = os.path.join(checkpoint_dir, BEST_FOLDER)
        self.patience = patience
        self.manager = tf.train.CheckpointManager(checkpoint, self.directory, max_to_keep=1)
        record = read_record(checkpoint_dir)
        self.validations: list[tuple[int, float]] = [
            (int(step), float(loss)) for step, loss in record.get("validations", [])]
        self.stopped: dict | None = record.get("stopped")

    def resume_at(self, step: int) -> None:
        """Forgets the validations after `step`, where a resumed run starts again."""
        self.validations = [(s, loss) for s, loss in self.validations if s <= step]
        if self.stopped and self.stopped["step"] > step:
            self.stopped = None

    @property
    def best(self) -> tuple[int, float] | None:
        """``(step, validation loss)`` of the lowest loss so far (the first, on a tie)."""
        return min(self.validations, key=lambda v: v[1]) if self.validations else None

    @property
    def validations_since_best(self) -> int:
        return len(self.validations) - 1 - self.validations.index(self.best) if self.best else 0

    def add(self, step: int, loss: float) -> bool:
        """Records a validation; saves the checkpoint when its loss is the lowest so far, and
        returns whether it was."""
        improved = self.best is None or loss < self.best[1]
        self.validations.append((step, loss))
        if improved:
            checkpoints.save(self.manager, step)  # a full disk: one line, the last best kept
        self._write()
        return improved

    def should_stop(self) -> bool:
        """Whether `patience` validations in a row have not lowered the loss."""
        return bool(self.patience) and self.validations_since_best >= self.patience

    def stop(self, step: int) -> str:
        """Records that training stopped early at `step`; returns the line that says so."""
        best_step, best_loss = self.best
        self.stopped = {"step": step, "patience": self.patience, "best_step": best_step,
                        "best_validation_loss": best_loss}
        self._write()
        return (f"early stop at step {step}: the validation loss has not improved for "
                f"{self.patience} validations (best {best_loss:.4f} at step {best_step}, kept in "
                f"{self.directory}; sample it with --checkpoint best; a larger --early_stopping, "
                "or 0, trains on)")

    def metrics(self) -> dict:
        best = self.best
        return {"best_validation_loss": best[1], "best_step": best[0]} if best else {}

    def _write(self) -> None:
        record = {"validations": self.validations, "stopped": self.stopped}
        atomic_write(os.path.join(self.directory, RECORD),
                     (json.dumps(record, indent=1) + "\n").encode("utf-8"))


def read_record(checkpoint_dir: str) -> dict:
    """The validations record of a model's checkpoint folder (empty when it has none)."""
    path = os.path.join(checkpoint_dir, BEST_FOLDER, RECORD)
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)
