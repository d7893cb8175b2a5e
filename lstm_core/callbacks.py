"""What training reports while it runs: `TrainingCallbacks`, one method per event.

`Trainer.train` calls them in this order: `on_start`, then for each step `on_step`, and at some
steps `on_log`, `on_validation`, `on_checkpoint`; `on_message` for each line meant for a user (a
log line, a validation line, early stopping); `on_end` last, also when training stops with an
exception. Under several workers each worker calls its own; the validation and early-stopping
lines come from the chief alone. Every method does nothing here: a subclass overrides those it
needs, such as a notebook's plot of the loss or the apps' progress bar
(`lstm_core.apps.terminal`).

    class Losses(lstm_core.callbacks.TrainingCallbacks):
        def __init__(self):
            self.steps, self.losses = [], []

        def on_step(self, step, metrics):
            self.steps.append(step)
            self.losses.append(metrics["loss"])
"""

from __future__ import annotations


class TrainingCallbacks:
    def on_start(self, step: int, total_steps: int) -> None:
        """Training starts at `step` (above 0 when resumed) and ends at `total_steps`."""

    def on_step(self, step: int, metrics: dict[str, float]) -> None:
        """Step `step` (counted from 1) is done: its `loss`, `accuracy` and `gradient_norm`."""

    def on_log(self, step: int, metrics: dict[str, float]) -> None:
        """Every `log_frequency` steps: the means since the last log of `loss`,
        `bits_per_token`, `accuracy`, `gradient_norm`, and `tokens_per_second` and
        `learning_rate` (what TensorBoard's train scalars hold)."""

    def on_validation(self, step: int, metrics: dict[str, float]) -> None:
        """The held-out split was evaluated: `validation_loss`, `validation_bits_per_token`,
        `validation_accuracy`."""

    def on_checkpoint(self, step: int, path: str) -> None:
        """A checkpoint of `step` was saved at `path`."""

    def on_message(self, line: str) -> None:
        """A line for the user, such as a log line, a validation line, or why training stops."""

    def on_end(self) -> None:
        """Training stopped: done, stopped early, or an exception is on its way."""
