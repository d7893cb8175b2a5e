"""The training metrics between two log lines: their running means, the line, TensorBoard.

Every step adds its loss, accuracy and gradient norm; every `log_frequency` steps their means
since the last line, the tokens per second and the learning rate go to TensorBoard's `train`
scalars, to the callbacks' `on_log` and, as one line, to `on_message`. Only the chief writes
TensorBoard logs: the other workers get writers that write nothing.
"""

from __future__ import annotations

import os
import time

import numpy as np
import tensorflow as tf

from lstm_core.callbacks import TrainingCallbacks
from lstm_core.train_step import LOG2


class TrainingLog:
    def __init__(self, log_dir: str, is_chief: bool, tokens_per_step: int):
        """
        Args:
          log_dir: TensorBoard logs go to `log_dir/<split>` (`train`, `validation`).
          tokens_per_step: tokens of the global batch, for the tokens per second.
        """
        self.log_dir, self.is_chief, self.tokens_per_step = log_dir, is_chief, tokens_per_step
        self._writers: dict[str, tf.summary.SummaryWriter] = {}
        self.reset()

    def writer(self, split: str) -> tf.summary.SummaryWriter:
        """The TensorBoard writer of `split`, made on first use (on workers other than the
        chief, one that writes nothing)."""
        if split not in self._writers:
            self._writers[split] = (
                tf.summary.create_file_writer(os.path.join(self.log_dir, split))
                if self.is_chief else tf.summary.create_noop_writer())
        return self._writers[split]

    def flush(self) -> None:
        for writer in self._writers.values():
            writer.flush()

    def reset(self) -> None:
        """Starts a new window of steps (and its clock)."""
        self.steps, self.sums, self.started = 0, np.zeros(3), time.perf_counter()

    def add(self, loss: float, accuracy: float, gradient_norm: float) -> None:
        self.steps += 1
        self.sums += (loss, accuracy, gradient_norm)

    def log(self, step: int, total_steps: int, epoch: int, learning_rate: float,
            callbacks: TrainingCallbacks) -> dict:
        """Writes and reports the means of the window (`epoch` counted from 0) and starts a new
        one; returns the metrics written."""
        loss, accuracy, norm = self.sums / max(self.steps, 1)
        seconds = max(time.perf_counter() - self.started, 1e-9)
        tokens_per_second = self.steps * self.tokens_per_step / seconds
        metrics = {"loss": loss, "bits_per_token": loss / LOG2, "accuracy": accuracy,
                   "tokens_per_second": tokens_per_second, "gradient_norm": norm,
                   "learning_rate": learning_rate}
        with self.writer("train").as_default(step=step):
            for name, value in metrics.items():
                tf.summary.scalar(name, value)
        callbacks.on_log(step, metrics)
        callbacks.on_message(f"step {step}/{total_steps} epoch {epoch + 1}: loss {loss:.4f}, "
                             f"bits/token {loss / LOG2:.3f}, accuracy {accuracy:.3f}, "
                             f"{tokens_per_second:,.0f} tokens/s, grad norm {norm:.2f}, "
                             f"lr {learning_rate:.2e}")
        self.reset()
        return metrics
