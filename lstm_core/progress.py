"""A one-line progress bar with an ETA, drawn on stderr when it is a terminal (else, when asked,
plain lines for logs: one per update, or one every `LOG_SECONDS` at most), and `Terminal`, the
printer of the library's `report` and `progress` callbacks. Only the apps and the ``python -m``
commands use them: the library reports through the callables it is given."""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

LOG_SECONDS = 10.0
"""A logged bar's lines come this far apart at least: a long job shows it is alive, a short one
writes nothing."""


Report = Callable[[str], None]
"""Takes a line for the user; a line starting ``warning:`` is a warning."""

TaskProgress = Callable[[int, int, str], None]
"""Takes ``(done, total, what)`` as a long task goes: the first call of a task gives the amount
already done before it started, and a call with ``done >= total`` ends the task."""


def silent_report(line: str) -> None:
    """A `Report` that drops each line: the library's default."""


def silent_progress(done: int, total: int, what: str) -> None:
    """A `TaskProgress` that drops each update: the library's default."""


def format_seconds(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


class ProgressBar:
    """``[#######.......]  45%  450/1000  ETA 0:01:12  loss 1.234``, redrawn at most 10 times
    a second. Log lines printed through `print` appear above it."""

    def __init__(self, total: int, initial: int = 0, stream: TextIO | None = None,
                 shown: bool = True, lines: bool = False, logged: bool = False):
        """`shown`: False for a bar that is never drawn (its `print` still prints). When `stream`
        is not a terminal: `lines` writes each update as a line of its own (for updates that
        come seldom, such as a sampler's chunks); `logged` writes the latest update as a line
        once `LOG_SECONDS` have passed since the start or the last line, and the last update
        after any (for long preparations whose output goes to a log)."""
        self.total, self.initial, self.done = max(total, 1), initial, initial
        self.stream = stream or sys.stderr
        self.active = shown and self.stream.isatty()
        self.lines = lines and shown and not self.stream.isatty()
        self.logged = logged and shown and not self.stream.isatty()
        self.started = self.last_drawn = time.perf_counter()
        self.suffix, self.drawn = "", False

    def update(self, done: int, suffix: str = "") -> None:
        self.done, self.suffix = done, suffix
        now = time.perf_counter()
        if self.active and (now - self.last_drawn > 0.1 or done >= self.total):
            self.last_drawn = now
            self._draw(now)
        elif self.lines or (self.logged and (now - self.last_drawn >= LOG_SECONDS or
                                             (self.drawn and done >= self.total))):
            self.last_drawn, self.drawn = now, True
            self.stream.write(self._status(now) + "\n")
            self.stream.flush()

    def _status(self, now: float) -> str:
        """``45%  450/1000  ETA 0:01:12  loss 1.234``."""
        fraction = min(self.done / self.total, 1.0)
        rate = (self.done - self.initial) / max(now - self.started, 1e-9)
        eta = format_seconds((self.total - self.done) / rate) if rate > 0 else "?"
        return f"{fraction:4.0%} {self.done}/{self.total} ETA {eta} {self.suffix}".rstrip()

    def _draw(self, now: float) -> None:
        fraction = min(self.done / self.total, 1.0)
        bar = "#" * int(30 * fraction) + "." * (30 - int(30 * fraction))
        self.stream.write(f"\r[{bar}] {self._status(now)}\x1b[K")
        self.stream.flush()
        self.drawn = True

    def print(self, line: str, file: TextIO | None = None) -> None:
        """Prints `line` to `file` (standard output by default), above the bar."""
        if self.active:
            self.stream.write("\r\x1b[K")
        print(line, file=file, flush=True)
        if self.active:
            self._draw(time.perf_counter())

    def close(self) -> None:
        if self.active and self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.active = False


class Terminal:
    """The terminal end of the library's callbacks: `report` prints each line (warnings on
    stderr, the rest on standard output) above the bar that `progress` draws for each task (a
    logged `ProgressBar`)."""

    def __init__(self):
        self.bar: ProgressBar | None = None

    def report(self, line: str) -> None:
        file = sys.stderr if line.startswith("warning:") else sys.stdout
        if self.bar is None:
            print(line, file=file, flush=True)
        else:
            self.bar.print(line, file)

    def progress(self, done: int, total: int, what: str) -> None:
        if self.bar is None:
            self.bar = ProgressBar(total, done, logged=True)
        else:
            self.bar.update(done, what)
        if done >= total:
            self.close()

    def close(self) -> None:
        """Ends the task under way, if one is (as when an error stopped it)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
