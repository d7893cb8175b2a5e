"""The ``train.py`` command (``lstm-train``): flags into `TrainOptions`, `lstm_core.training.train`
called, its lines printed with a progress bar, an interruption turned into its exit status."""

from __future__ import annotations

from lstm_core import cli
from lstm_core.options import define_flags, from_flags
from lstm_core.training_options import TrainOptions, check, with_defaults


def checked_options() -> tuple[TrainOptions, frozenset]:
    """The options of the flags, with the checks that need no file read (before TensorFlow)."""
    options, given = from_flags(TrainOptions)
    check(with_defaults(options, given))
    return options, given


def main(checked: tuple[TrainOptions, frozenset]) -> None:
    from lstm_core.apps.terminal import TerminalProgress
    from lstm_core.progress import Terminal
    from lstm_core.trainer import Interrupted
    from lstm_core.training import train

    options, given = checked
    terminal = Terminal()
    try:
        train(options, given, report=terminal.report, callbacks=TerminalProgress(),
              progress=terminal.progress)
    except Interrupted as stop:
        cause = "" if stop.here else " (another worker was interrupted)"
        print(f"interrupted at step {stop.step}: saved {stop.checkpoint}{cause}; run the same "
              "command to resume", flush=True)
        raise SystemExit(128 + stop.signal_number)
    finally:
        terminal.close()


def run() -> None:
    """Defines the flags and runs the command (the ``lstm-train`` entry point)."""
    define_flags(TrainOptions)
    cli.run(main, check=checked_options)
