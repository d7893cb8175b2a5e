"""Training as a terminal shows it: a progress bar on stderr, and the trainer's lines above it."""

from __future__ import annotations

from lstm_core.callbacks import TrainingCallbacks
from lstm_core.progress import ProgressBar


class TerminalProgress(TrainingCallbacks):
    """``[#####.....]  45%  450/1000  ETA 0:01:12  loss 1.234`` (`ProgressBar`), updated every
    step; each line printed above it."""

    def __init__(self):
        self.bar: ProgressBar | None = None

    def on_start(self, step: int, total_steps: int) -> None:
        self.bar = ProgressBar(total_steps, initial=step)

    def on_step(self, step: int, metrics: dict[str, float]) -> None:
        self.bar.update(step, f"loss {metrics['loss']:.3f}")

    def on_message(self, line: str) -> None:
        if self.bar is None:
            print(line, flush=True)
        else:
            self.bar.print(line)

    def on_end(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
