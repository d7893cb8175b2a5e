"""What a terminal shows while a command works: a progress bar on stderr, lines above it."""

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


class Progress:
    """The progress bar of each generation run (a music piece may take a longer run again)."""

    def __init__(self):
        self.bar = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None or self.bar.total != total:
            self.close()
            self.bar = ProgressBar(total, lines=True)
        self.bar.update(done, "tokens")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
