"""Ctrl-C (SIGINT) and `kill` (SIGTERM) while training: a vote to stop at the end of a step.

A signal reaches one worker, but every worker must stop at the same step (they save the same
checkpoint together). So a signal only sets this worker's `votes`, `[2]` float32 (SIGINT,
SIGTERM); the training step sums the votes of every worker along with the gradients, and each
worker stops once the sum it reads back is not zero.
"""

from __future__ import annotations

import signal
from typing import Callable

import numpy as np

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
NO_STOP = np.zeros(len(STOP_SIGNALS), np.float32)


class StopOnInterrupt:
    """Turns the first Ctrl-C (SIGINT) or `kill` (SIGTERM) into a vote to stop after the
    current step; a second one interrupts at once (the handlers are released on the first).
    `report` prints its line (above the progress bar)."""

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

    @staticmethod
    def signal_of(votes: np.ndarray) -> int:
        """The signal another worker voted with, from the summed `votes` `[2]`."""
        return int(STOP_SIGNALS[int(np.argmax(votes > 0))])
